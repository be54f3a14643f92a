"""Contract failures: assertion errors that carry the rule, the JSON path and the evidence.

``ContractViolation`` subclasses ``AssertionError`` so pytest reports a broken contract as a
test failure, while reports can still read its fields. Its message has one layout everywhere:
the rule and title, the request, the JSON path and offending value, and a curl command that
reproduces the call.
"""

from __future__ import annotations

import json
from typing import Any

_MAX_VALUE_LINES = 20
_MAX_VALUE_CHARS = 1500

# Failure classes that reports group by; one per kind of cause.
SCHEMA = "schema violation"
SEMANTIC = "semantic violation"
STATUS = "wrong status code"
INFRASTRUCTURE = "infrastructure"
CONFIGURATION = "configuration"


def preview(value: Any) -> str:
    """Return ``value`` as pretty JSON, cut to a readable size."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        text = repr(value)
    lines = text.splitlines()
    if len(lines) > _MAX_VALUE_LINES:
        lines = [*lines[:_MAX_VALUE_LINES], f"... ({len(lines) - _MAX_VALUE_LINES} more lines)"]
    text = "\n".join(lines)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS] + " ..."
    return text


class ContractViolation(AssertionError):
    """The target broke a contract rule."""

    def __init__(
        self,
        rule: str,
        title: str,
        *,
        failure_class: str = SEMANTIC,
        request: str = "",
        json_path: str | None = None,
        value: Any = None,
        has_value: bool = False,
        expected: str = "",
        curl: str = "",
    ):
        self.rule = rule
        self.title = title
        self.failure_class = failure_class
        self.request = request
        self.json_path = json_path
        self.value = value
        self.expected = expected
        self.curl = curl

        lines = [f"[{rule}] {title}", f"Class: {failure_class}"]
        if request:
            lines.append(f"Request: {request}")
        if json_path is not None:
            lines.append(f"At: {json_path}")
        if has_value:
            lines.append(f"Value: {preview(value)}")
        if expected:
            lines.append(f"Expected: {expected}")
        if curl:
            lines.append(f"Reproduce: {curl}")
        super().__init__("\n".join(lines))
