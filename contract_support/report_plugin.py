"""pytest plugin for the run's reports: Allure metadata, latency, rule coverage and schema drift.

It builds on ``CallRecorder`` (``contract_support.reporting``), which records every call and
writes results.json. This plugin adds:

- per test: Allure labels, severity, description and link from the ``rule`` marker, and the
  latency p50/p95/max of the test's calls as an Allure attachment and JUnit properties;
- per run: latency and rule coverage in results.json, the terminal summary and the HTML
  summary;
- per run, as files: ``rule-coverage.{json,md,html}``, ``schema-drift.json`` (with drift
  warnings during the run), and ``environment.properties``, ``categories.json`` and, in CI,
  ``executor.json`` in the Allure results folder.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import logging
import os
import pathlib
import platform
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest

from contract_support import coverage, failures, rules
from contract_support.client import ApiCall
from contract_support.config import Environment
from contract_support.drift import SchemaDrift
from contract_support.latency import LatencyStats, latency_stats
from contract_support.plugin import ENVIRONMENT_KEY, PROJECT_ROOT, RECORDER_KEY
from contract_support.reporting import CallRecorder

# Key of the undocumented fields a pytest-xdist worker sends to the controller when it finishes.
WORKER_DRIFT = "contract_drift"

try:
    import allure
except ImportError:  # pragma: no cover - allure-pytest is a pinned requirement
    allure = None

log = logging.getLogger(__name__)

REPORTS_KEY = pytest.StashKey["ContractReports"]()
# Rule severities as Allure severity levels.
ALLURE_SEVERITY = {"critical": "critical", "major": "normal", "minor": "minor"}
_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}

# Allure categories, matched against the failure message of each failed or broken test.
# ContractViolation messages carry a "Class: <failure class>" line. A plain assert in a test
# has none and counts as a semantic violation, as in results.json.
ALLURE_CATEGORIES = [
    {
        "name": "Schema violations",
        "matchedStatuses": ["failed"],
        "messageRegex": f"(?s).*Class: {failures.SCHEMA}.*",
    },
    {
        "name": "Wrong status codes",
        "matchedStatuses": ["failed"],
        "messageRegex": f"(?s).*Class: {failures.STATUS}.*",
    },
    {
        "name": "Semantic violations",
        "matchedStatuses": ["failed"],
        "messageRegex": f"(?s)(.*Class: {failures.SEMANTIC}.*|(?!.*Class: ).*)",
    },
    {
        "name": "Infrastructure errors",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": "(?s).*(infrastructure: |ConnectionError|TimeoutError).*",
    },
    {
        "name": "Configuration errors",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": "(?s).*(configuration error: |ConfigError).*",
    },
    {
        "name": "Errors in the suite",
        "matchedStatuses": ["broken"],
        "messageRegex": "(?s)(?!.*(infrastructure: |ConnectionError|TimeoutError|configuration error: |ConfigError)).*",
    },
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract")
    group.addoption(
        "--drift-baseline", dest="drift_baseline", default=None,
        help="JSON file of known undocumented response fields (default: <reports dir>/drift-baseline.json); "
        "the run flags fields missing from it as new",
    )
    group.addoption(
        "--update-drift-baseline", dest="update_drift_baseline", action="store_true", default=False,
        help="replace the drift baseline with the undocumented fields seen in this run",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if ENVIRONMENT_KEY not in config.stash:
        return
    reports = ContractReports(config, config.stash[ENVIRONMENT_KEY], config.stash[RECORDER_KEY])
    config.stash[REPORTS_KEY] = reports
    config.pluginmanager.register(reports, "contract-reports")


@functools.cache
def suite_version() -> tuple[str, str]:
    """Return ``git describe --always --dirty`` and the commit of the suite, or "unknown" outside a git checkout."""
    values = []
    for command in (["git", "describe", "--always", "--dirty"], ["git", "rev-parse", "HEAD"]):
        try:
            output = subprocess.run(
                command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError) as error:
            log.warning("cannot read the suite version with %s: %s", " ".join(command), error)
            output = "unknown"
        values.append(output or "unknown")
    return values[0], values[1]


def rules_of(item: pytest.Item) -> list[rules.Rule]:
    """Return the catalogue entries of the rule IDs in ``item``'s rule markers, in marker order."""
    ids = dict.fromkeys(rule_id for marker in item.iter_markers("rule") for rule_id in marker.args)
    return [rules.RULES[rule_id] for rule_id in ids if rule_id in rules.RULES]


def base_url_of(call: ApiCall) -> str:
    parts = urlsplit(call.url)
    return f"{parts.scheme}://{parts.netloc}"


class ContractReports:
    """Per-run report writer, registered as a pytest plugin once the environment is loaded."""

    def __init__(self, config: pytest.Config, environment: Environment, recorder: CallRecorder):
        self.config = config
        self.environment = environment
        self.recorder = recorder
        self.reports_dir = recorder.reports_dir
        self._finished: dict[str, Any] | None = None

        baseline = config.getoption("drift_baseline")
        if baseline is None and self.reports_dir is not None:
            baseline = self.reports_dir / "drift-baseline.json"
        self.drift_baseline_path = pathlib.Path(baseline) if baseline is not None else None
        try:
            self.drift = SchemaDrift(recorder.redactor, environment.mask_pii, self.drift_baseline_path)
        except ValueError as error:
            raise pytest.UsageError(f"configuration error: {error}") from None
        recorder.listeners.append(self._observe_drift)

        self._add_metadata()

    # Per call and per test.

    def _observe_drift(self, call: ApiCall, test_id: str) -> None:
        for field in self.drift.observe(call, test_id):
            self.drift.warn(field)

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """Label the Allure result with the test's rules; teardown runs even for tests that fail or skip in setup."""
        if allure is None:
            return
        item_rules = rules_of(item)
        if not item_rules:
            return

        for rule in item_rules:
            allure.dynamic.tag(rule.id)
            allure.dynamic.label("rule", rule.id)
            allure.dynamic.story(f"{rule.id}: {rule.statement}")
            allure.dynamic.feature(f"{rule.origin} rules")
            allure.dynamic.link(f"../rule-coverage.html#{rule.id}", name=f"rule {rule.id} in the coverage matrix")
        strictest = min(item_rules, key=lambda rule: _SEVERITY_RANK.get(rule.severity, len(_SEVERITY_RANK)))
        allure.dynamic.severity(allure.severity_level(ALLURE_SEVERITY.get(strictest.severity, "normal")))

        lines = [f"**{rule.id}** ({rule.severity}, {rule.origin}): {rule.statement}\n\nSource: {rule.source}" for rule in item_rules]
        docstring = getattr(getattr(item, "function", None), "__doc__", None)
        if docstring:
            lines.append(docstring.strip())
        allure.dynamic.description("\n\n".join(lines))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        report: pytest.TestReport = yield
        calls = self.recorder.calls_by_test.get(item.nodeid, [])
        stats = latency_stats(recorded.elapsed_seconds for recorded in calls if recorded.error is None)
        if stats is None:
            return report

        if report.when == "call" and allure is not None:
            allure.attach(stats.describe(), name="latency", attachment_type=allure.attachment_type.TEXT)
        if report.when == "teardown":
            report.user_properties.extend([
                ("requests", stats.count),
                ("latency_p50_ms", stats.p50_ms),
                ("latency_p95_ms", stats.p95_ms),
                ("latency_max_ms", stats.max_ms),
            ])
            entry = self.recorder.results.get(item.nodeid)
            if entry is not None:
                entry["latency_ms"] = stats.as_dict()
        return report

    # Per run.

    def _add_metadata(self) -> None:
        """Add the environment, target and suite version to pytest-metadata, which the HTML report shows."""
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pragma: no cover - pytest-metadata comes with pytest-html
            return
        metadata = self.config.stash.get(metadata_key, None)
        if metadata is None:
            return
        metadata["Contract environment"] = f"{self.environment.name} ({self.environment.path.name})"
        metadata["Target"] = (
            "embedded sandbox on 127.0.0.1" if self.environment.embedded_sandbox and not self.config.getoption("contract_base_url")
            else str(self.environment.base_url)
        )
        if self.config.getoption("sandbox_fault"):
            metadata["Sandbox fault"] = self.config.getoption("sandbox_fault")
        metadata["Suite version"] = suite_version()[0]

    def base_url(self) -> str:
        if self.recorder.all_calls:
            return base_url_of(self.recorder.all_calls[0])
        return str(self.environment.base_url or "(no request sent)")

    def finish(self) -> dict[str, Any]:
        """Compute the run's latency, coverage and drift summaries once; later calls reuse them."""
        if self._finished is not None:
            return self._finished
        overall = latency_stats(self.recorder.call_latencies())
        matrix = coverage.build_matrix(rules.RULES, self.recorder.results.values())
        self._finished = {
            "latency": overall,
            "matrix": matrix,
            "coverage": coverage.summarize(matrix),
            "drift": self.drift.report(),
        }
        return self._finished

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.drift.merge(getattr(node, "workeroutput", {}).get(WORKER_DRIFT, []))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # xdist workers send their drift to the controller, which writes the reports.
        worker_output = getattr(session.config, "workeroutput", None)
        if worker_output is not None:
            worker_output[WORKER_DRIFT] = [dataclasses.asdict(field) for field in self.drift.fields.values()]
            return
        if self.reports_dir is None:
            return
        finished = self.finish()
        overall: LatencyStats | None = finished["latency"]
        self.recorder.summary_sections.update({
            "environment": self.environment.name,
            "base_url": self.base_url(),
            "suite_version": suite_version()[0],
            "latency_ms": overall.as_dict() if overall else None,
            "rule_coverage": finished["coverage"],
            "schema_drift": {
                "undocumented_fields": len(finished["drift"]["undocumented_fields"]),
                "new_paths": finished["drift"]["new_paths"],
            },
        })

        coverage.write_matrix(finished["matrix"], self.reports_dir, self.environment.name)
        (self.reports_dir / "schema-drift.json").write_text(json.dumps(finished["drift"], indent=2) + "\n", encoding="utf-8")
        if self.drift_baseline_path is not None and (
            self.config.getoption("update_drift_baseline") or not self.drift_baseline_path.exists()
        ):
            self.drift.write_baseline(self.drift_baseline_path)
        self._write_allure_files()

    def _write_allure_files(self) -> None:
        folder = getattr(self.config.option, "allure_report_dir", None)
        if not folder:
            return
        folder_path = pathlib.Path(folder)
        folder_path.mkdir(parents=True, exist_ok=True)

        describe, commit = suite_version()
        properties = {
            "environment": self.environment.name,
            "base_url": self.base_url(),
            "suite_version": describe,
            "git_commit": commit,
            "sandbox_fault": self.config.getoption("sandbox_fault") or "none",
            "python": platform.python_version(),
            "pytest": pytest.__version__,
        }
        (folder_path / "environment.properties").write_text(
            "".join(f"{key}={_escape_property(str(value))}\n" for key, value in properties.items()), encoding="utf-8"
        )
        (folder_path / "categories.json").write_text(json.dumps(ALLURE_CATEGORIES, indent=2) + "\n", encoding="utf-8")

        executor = ci_executor(os.environ)
        if executor is not None:
            (folder_path / "executor.json").write_text(json.dumps(executor, indent=2) + "\n", encoding="utf-8")

    # Terminal and HTML summaries.

    def summary_lines(self) -> list[str]:
        finished = self.finish()
        overall: LatencyStats | None = finished["latency"]
        counts = finished["coverage"]
        drift = finished["drift"]
        lines = [
            f"target {self.base_url()}: " + (overall.describe() if overall else "no responses"),
            f"rules: {counts['rules']} in the catalogue, "
            + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()) if status != "rules"),
        ]
        uncovered = [row["rule"] for row in finished["matrix"] if row["status"] == coverage.UNCOVERED]
        if uncovered:
            lines.append("rules without a test: " + ", ".join(uncovered))
        fields = drift["undocumented_fields"]
        if fields:
            lines.append(
                f"schema drift: {len(fields)} undocumented response fields, {len(drift['new_paths'])} new since the baseline"
            )
            lines.extend(
                f"  {'new ' if field['new'] else 'known'} {field['path']}: {field['example']}" for field in fields
            )
        else:
            lines.append("schema drift: no undocumented response fields")
        if self.reports_dir is not None:
            lines.append(f"reports: {self.reports_dir}")
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "contract run summary")
        for line in self.summary_lines():
            terminalreporter.write_line(line)

    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"Get Customers Bulk contract: {self.environment.name}"

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session) -> None:
        finished = self.finish()
        overall: LatencyStats | None = finished["latency"]
        latency = (
            f"p50 {overall.p50_ms:.1f} ms, p95 {overall.p95_ms:.1f} ms, max {overall.max_ms:.1f} ms" if overall else "no responses"
        )
        drift = finished["drift"]
        rows = [
            ("Environment", f"{self.environment.name} ({self.environment.path.name})"),
            ("Base URL", self.base_url()),
            ("Sandbox fault", self.config.getoption("sandbox_fault") or "none"),
            ("Suite version", suite_version()[0]),
            ("Responses received", str(len(self.recorder.call_latencies()))),
            ("Latency", latency),
            ("Schema drift", f"{len(drift['undocumented_fields'])} undocumented fields, {len(drift['new_paths'])} new"),
        ]
        prefix.append(
            "<h2>Contract run</h2><table>"
            + "".join(f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>" for name, value in rows)
            + "</table>"
        )

        rule_rows = "".join(
            f"<tr><td>{html.escape(row['rule'])}</td><td>{html.escape(str(row['severity']))}</td>"
            f"<td>{html.escape(row['status'])}</td>"
            + "".join(f"<td>{row['outcomes'].get(outcome, 0)}</td>" for outcome in ("passed", "failed", "error", "skipped"))
            + "</tr>"
            for row in finished["matrix"]
        )
        prefix.append(
            "<h2>Results per rule</h2><table><tr><th>Rule</th><th>Severity</th><th>Status</th>"
            "<th>Passed</th><th>Failed</th><th>Errors</th><th>Skipped</th></tr>" + rule_rows + "</table>"
        )


def _escape_property(value: str) -> str:
    """Escape a value for a Java properties file, which Allure reads environment.properties as."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\:").replace("=", "\\=")


def ci_executor(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any] | None:
    """Return Allure's executor.json content when the run is in CI (``CI`` is set), else None."""
    if not environ.get("CI"):
        return None
    if environ.get("GITHUB_ACTIONS") == "true":
        run_url = (
            f"{environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{environ.get('GITHUB_REPOSITORY', '')}"
            f"/actions/runs/{environ.get('GITHUB_RUN_ID', '')}"
        )
        return {
            "name": "GitHub Actions",
            "type": "github",
            "buildName": f"{environ.get('GITHUB_WORKFLOW', 'workflow')} #{environ.get('GITHUB_RUN_NUMBER', '?')}",
            "buildOrder": int(environ.get("GITHUB_RUN_NUMBER", "0") or 0),
            "buildUrl": run_url,
            "reportName": "Get Customers Bulk contract",
        }
    return {"name": "CI", "type": "ci", "buildName": environ.get("CI_JOB_NAME", "contract run")}
