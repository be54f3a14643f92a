"""Rendering of a recorded call as a curl command that reproduces it, with secrets redacted.

A secret header becomes a shell variable reference such as ``"Authorization: $AUTHORIZATION"``,
so the command runs unchanged once the reader exports the real value.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from contract_support.redaction import Redactor, is_secret_name

# Headers that requests adds by itself and curl adds or needs no help with.
_SKIPPED_HEADERS = frozenset({"content-length", "connection", "accept-encoding", "user-agent", "accept"})


def _variable_for(header: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", header.upper()).strip("_")


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    redactor: Redactor,
) -> str:
    """Return a one-line curl command for the call; ``url`` already carries the query string."""
    parts = ["curl", "--request", method, shlex.quote(redactor.text(url))]
    for name, value in headers.items():
        if name.lower() in _SKIPPED_HEADERS:
            continue
        if is_secret_name(name):
            # Double quotes so the shell expands the variable that stands for the secret.
            parts += ["--header", f'"{name}: ${_variable_for(name)}"']
        else:
            parts += ["--header", shlex.quote(f"{name}: {redactor.text(str(value))}")]

    if body is not None:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
        parts += ["--data-raw", shlex.quote(redactor.text(text))]
    return " ".join(parts)


def secret_variables(headers: Mapping[str, str]) -> list[str]:
    """Return the shell variables a curl command from ``headers`` expects to be exported."""
    return [_variable_for(name) for name in headers if is_secret_name(name) and name.lower() not in _SKIPPED_HEADERS]
