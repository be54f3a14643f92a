"""Report attachments: every recorded call goes to its test in pytest-html, Allure and results.json.

An attachment shows the request (method, URL, query, headers, body), the response (status,
headers, body), the time it took, the retries and a curl command that reproduces the call,
all redacted. ``results.json`` lists each test with its outcome, rules and failure class,
for the fault matrix and the rule coverage.
"""

from __future__ import annotations

import html
import json
import logging
import pathlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from contract_support import failures
from contract_support.client import ApiCall, InfrastructureError
from contract_support.config import ConfigError
from contract_support.failures import ContractViolation
from contract_support.redaction import Redactor

log = logging.getLogger(__name__)

# A test that makes more calls shows the first and the last ones, so a report stays readable.
MAX_ATTACHED_CALLS = 12
# Keys of what a pytest-xdist worker sends to the controller when it finishes.
WORKER_RESULTS = "contract_results"
WORKER_LATENCIES = "contract_latencies"

try:
    import allure
except ImportError:  # pragma: no cover - allure-pytest is a pinned requirement
    allure = None


def format_call(call: ApiCall, redactor: Redactor, body_transform: Callable[[str], str] | None = None) -> str:
    """Return a redacted, human-readable account of one call."""
    request_headers = json.dumps(redactor.headers(call.request_headers), indent=2)
    response_headers = json.dumps(redactor.headers(call.response_headers), indent=2)
    response_body = redactor.body(call.response_body)
    if body_transform is not None:
        response_body = body_transform(response_body)
    lines = [
        f"{call.method} {redactor.text(call.full_url)}",
        f"query: {redactor.text(json.dumps(call.params))}",
        f"request headers: {request_headers}",
        f"request body: {redactor.body(call.request_body) or '(none)'}",
        f"status: {call.status}",
        f"time: {call.elapsed_seconds * 1000:.1f} ms",
        *([f"error: no response, {redactor.text(call.error)}"] if call.error else []),
        f"response headers: {response_headers}",
        f"response body: {response_body}",
    ]
    if call.retries:
        lines.append("retries: " + "; ".join(
            f"{event.reason}, waited {event.sleep_seconds:.1f} s" for event in call.retries
        ))
    lines.append(f"reproduce: {call.curl(redactor)}")
    return "\n".join(lines)


def failure_class(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str | None:
    """Return the failure class of an exception, for grouping in reports."""
    if excinfo is None:
        return None
    error = excinfo.value
    if isinstance(error, ContractViolation):
        return error.failure_class
    if isinstance(error, InfrastructureError):
        return failures.INFRASTRUCTURE
    if isinstance(error, ConfigError):
        return failures.CONFIGURATION
    if isinstance(error, AssertionError):
        return failures.SEMANTIC
    return failures.INFRASTRUCTURE if isinstance(error, OSError) else None


class CallRecorder:
    """pytest plugin that attaches each call to the running test and writes results.json."""

    def __init__(self, redactor: Redactor):
        self.redactor = redactor
        self.reports_dir: pathlib.Path | None = None
        self.body_transform: Callable[[str], str] | None = None
        self.calls_by_test: dict[str, list[ApiCall]] = {}
        self.all_calls: list[ApiCall] = []
        # Latencies in seconds of the calls that pytest-xdist workers made, sent at their end.
        self.worker_latencies: list[float] = []
        self.results: dict[str, dict[str, Any]] = {}
        # Callbacks that get every call with the node ID of the test that made it.
        self.listeners: list[Callable[[ApiCall, str], None]] = []
        # Extra top-level sections of results.json, filled by other report plugins before it is written.
        self.summary_sections: dict[str, Any] = {}
        self._current: str | None = None
        self._started = time.time()

    def record(self, call: ApiCall) -> None:
        self.all_calls.append(call)
        calls = self.calls_by_test.setdefault(self._current or "(outside tests)", [])
        calls.append(call)
        if allure is not None and len(calls) <= MAX_ATTACHED_CALLS:
            # The step is recorded once the response is in, so its title carries the status and time.
            with allure.step(self.redactor.text(f"send {call.summary().split('://', 1)[-1]}")):
                allure.attach(
                    format_call(call, self.redactor, self.body_transform),
                    name=self.redactor.text(f"{call.method} {call.url.split('://', 1)[-1]} -> {call.status}"),
                    attachment_type=allure.attachment_type.TEXT,
                )
        for listener in self.listeners:
            listener(call, self._current or "(outside tests)")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._current = item.nodeid

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        rule_ids = [rule_id for marker in item.iter_markers("rule") for rule_id in marker.args]
        report.user_properties.append(("rules", " ".join(rule_ids)))

        entry = self.results.setdefault(item.nodeid, {"nodeid": item.nodeid, "rules": rule_ids, "outcome": "passed"})
        if report.failed:
            entry["failure_class"] = failure_class(call.excinfo)
            # An infrastructure problem is an error wherever it happens: the contract was not checked.
            is_error = report.when != "call" or entry["failure_class"] == failures.INFRASTRUCTURE
            entry["outcome"] = "error" if is_error else "failed"
            violation = call.excinfo.value if call.excinfo is not None else None
            entry["violated_rule"] = violation.rule if isinstance(violation, ContractViolation) else None
            entry["message"] = self.redactor.text(str(violation))[:2000] if violation is not None else ""
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"

        if report.when == "call" or (report.failed and report.when == "setup"):
            self._add_html_extras(item, report)

    def _add_html_extras(self, item: pytest.Item, report: pytest.TestReport) -> None:
        try:
            from pytest_html import extras
        except ImportError:  # pragma: no cover - pytest-html is a pinned requirement
            return
        calls = self.calls_by_test.get(item.nodeid, [])
        attached = calls if len(calls) <= MAX_ATTACHED_CALLS else calls[: MAX_ATTACHED_CALLS - 2] + calls[-2:]
        blocks = [
            f"<details><summary>{html.escape(self.redactor.text(call.summary()))}</summary>"
            f"<pre>{html.escape(format_call(call, self.redactor, self.body_transform))}</pre></details>"
            for call in attached
        ]
        if len(calls) > len(attached):
            blocks.insert(MAX_ATTACHED_CALLS - 2, f"<p>... {len(calls) - len(attached)} more calls not shown</p>")
        if blocks:
            report.extras = [*getattr(report, "extras", []), extras.html("".join(blocks))]

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, "<th>Rules</th>")

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        rule_ids = dict(report.user_properties).get("rules", "")
        cells.insert(2, f"<td>{html.escape(rule_ids)}</td>")

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """List deselected tests, so their rules show as deselected rather than uncovered."""
        for item in items:
            rule_ids = [rule_id for marker in item.iter_markers("rule") for rule_id in marker.args]
            self.results[item.nodeid] = {"nodeid": item.nodeid, "rules": rule_ids, "outcome": "deselected"}

    def call_latencies(self) -> list[float]:
        """Return the latency in seconds of every call of the run, workers' included."""
        answered = [call.elapsed_seconds for call in self.all_calls if call.error is None]
        return answered + self.worker_latencies

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Merge what a pytest-xdist worker recorded, so the controller's reports cover every test."""
        output = getattr(node, "workeroutput", {})
        for entry in output.get(WORKER_RESULTS, []):
            self.results[entry["nodeid"]] = entry
        self.worker_latencies.extend(output.get(WORKER_LATENCIES, []))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        worker_output = getattr(session.config, "workeroutput", None)
        if worker_output is not None:
            worker_output[WORKER_RESULTS] = list(self.results.values())
            worker_output[WORKER_LATENCIES] = [call.elapsed_seconds for call in self.all_calls if call.error is None]
            return
        if self.reports_dir is None:
            return
        summary = {
            # The request budget replaces this with every attempt, retries and lost connections included.
            "requests_sent": len(self.call_latencies()),
            "responses_received": len(self.call_latencies()),
            "duration_seconds": round(time.time() - self._started, 3),
            **self.summary_sections,
            "tests": list(self.results.values()),
        }
        path = self.reports_dir / "results.json"
        path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
