"""Self test: a flaky network in front of the sandbox never turns into a contract failure.

The contract suite runs in subprocesses, in parallel, against the sandbox's network modes
(429 with Retry-After, 503, dropped connections, slow responses). Each run must end green,
or with errors of class ``infrastructure`` only, and never with a failed test. Two runs
make the network win: one with retries turned off and one whose timeout is shorter than the
slow mode's delay, and both must report infrastructure errors, not failures.

``start_suite`` and ``SuiteRun`` are shared with the other safety self tests.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
ENVIRONMENTS = pathlib.Path(__file__).resolve().parent / "environments"
RUN_TIMEOUT_SECONDS = 120
NETWORK_MODES = ("flaky-throttle", "flaky-503", "flaky-reset", "flaky-slow")
# flaky-throttle waits 1 s on every 4th request and flaky-slow 0.3 s on each, so the full
# suite (about 650 requests, most from the generated and metamorphic tests) would take minutes
# under them. They run these files, about 50 requests: the hand-written checks of the
# envelope, results, auth, and the stability and latency tests, which time repeated calls.
SLOW_MODE_SELECTION = {
    "flaky-throttle": ["tests/test_auth.py", "tests/test_envelope.py", "tests/test_results.py", "tests/test_stability.py"],
    "flaky-slow": ["tests/test_auth.py", "tests/test_envelope.py", "tests/test_results.py", "tests/test_stability.py"],
}
# The retry-free and timeout runs fail nearly every call, each after up to four attempts.
SHORT_SELECTION = ["tests/test_auth.py", "tests/test_envelope.py"]


@dataclasses.dataclass
class SuiteRun:
    """A finished subprocess run of the contract suite and the files it wrote."""

    returncode: int
    stdout: str
    stderr: str
    reports: pathlib.Path
    junit: pathlib.Path

    def results(self) -> dict:
        return json.loads((self.reports / "results.json").read_text(encoding="utf-8"))

    def outcomes(self) -> dict[str, tuple[str, str | None]]:
        """Return each test's outcome and failure class from results.json, by node ID."""
        return {test["nodeid"]: (test["outcome"], test.get("failure_class")) for test in self.results()["tests"]}

    def junit_counts(self) -> dict[str, int]:
        suite = ET.parse(self.junit).getroot().find("testsuite")
        return {key: int(suite.get(key)) for key in ("tests", "failures", "errors", "skipped")}

    def output(self) -> str:
        return self.stdout[-6000:] + "\n" + self.stderr[-3000:]


def start_suite(
    directory: pathlib.Path, *arguments: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, pathlib.Path]:
    """Start the contract suite in a subprocess writing its reports and JUnit XML under ``directory``.

    Returns the process and the reports folder; pass both to ``finish_suite``.
    """
    reports = directory / "reports"
    environment = {key: value for key, value in os.environ.items() if key != "CONTRACT_ENV"}
    environment.update(env or {})
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE",
        f"--reports-dir={reports}", f"--junitxml={directory / 'junit.xml'}", *arguments,
    ]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return process, reports


def finish_suite(process: subprocess.Popen, reports: pathlib.Path) -> SuiteRun:
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"the suite run did not finish within {RUN_TIMEOUT_SECONDS} s:\n{stdout[-3000:]}")
    return SuiteRun(process.returncode, stdout, stderr, reports, reports.parent / "junit.xml")


def run_in_parallel(tmp_path_factory, runs: dict[str, list[str]]) -> dict[str, SuiteRun]:
    """Start every run at once, then wait for all of them. The keys of ``runs`` name the runs."""
    started = {
        name: start_suite(tmp_path_factory.mktemp(name), *arguments)
        for name, arguments in runs.items()
    }
    return {name: finish_suite(*process_and_reports) for name, process_and_reports in started.items()}


@pytest.fixture(scope="module")
def network_runs(tmp_path_factory) -> dict[str, SuiteRun]:
    runs = {mode: ["--sandbox-fault", mode, *SLOW_MODE_SELECTION.get(mode, [])] for mode in NETWORK_MODES}
    runs["no-retries-503"] = [
        "--env", str(ENVIRONMENTS / "safety-no-retries.yaml"), "--sandbox-fault", "flaky-503", *SHORT_SELECTION,
    ]
    runs["timeout-slow"] = [
        "--env", str(ENVIRONMENTS / "safety-timeout.yaml"), "--sandbox-fault", "flaky-slow", *SHORT_SELECTION,
    ]
    return run_in_parallel(tmp_path_factory, runs)


def contract_failures(run: SuiteRun) -> dict[str, tuple[str, str | None]]:
    """Return the tests that ended as anything but passed, skipped or an infrastructure error."""
    allowed = {("passed", None), ("skipped", None), ("error", "infrastructure")}
    return {nodeid: result for nodeid, result in run.outcomes().items() if result not in allowed}


@pytest.mark.parametrize("mode", NETWORK_MODES)
def test_network_mode_causes_no_contract_failure(network_runs, mode):
    run = network_runs[mode]

    assert contract_failures(run) == {}, run.output()
    assert run.junit_counts()["failures"] == 0, run.output()
    assert " failed" not in run.stdout, run.output()
    assert run.outcomes(), f"results.json lists no tests\n{run.output()}"


@pytest.mark.parametrize("mode", ["flaky-throttle", "flaky-503", "flaky-reset"])
def test_network_mode_is_retried_and_reported(network_runs, mode):
    run = network_runs[mode]

    report = (run.reports / "report.html").read_text(encoding="utf-8")

    assert run.returncode == 0, run.output()
    assert "retries: " in report, f"no call in the HTML report of {mode} shows its retries"


def test_throttle_retry_waits_for_retry_after(network_runs):
    report = (network_runs["flaky-throttle"].reports / "report.html").read_text(encoding="utf-8")

    assert "HTTP 429, waited 1.0 s" in report


def test_exhausted_retries_are_infrastructure_errors(network_runs):
    run = network_runs["no-retries-503"]
    outcomes = run.outcomes()

    errors = [nodeid for nodeid, result in outcomes.items() if result == ("error", "infrastructure")]
    counts = run.junit_counts()

    assert errors, f"flaky-503 without retries produced no infrastructure error\n{run.output()}"
    assert contract_failures(run) == {}, run.output()
    assert counts["errors"] == len(errors), f"JUnit counts {counts}, results.json has {len(errors)} errors"
    assert counts["failures"] == 0, run.output()
    assert run.returncode == 1, run.output()
    assert "ERROR tests/" in run.stdout, run.output()
    assert "still HTTP 503 after 0 retries" in run.stdout, run.output()


def test_timeout_is_infrastructure_error(network_runs):
    run = network_runs["timeout-slow"]

    junit = ET.parse(run.junit).getroot()
    errors = junit.findall(".//testcase/error")
    failures = junit.findall(".//testcase/failure")

    assert contract_failures(run) == {}, run.output()
    assert failures == [], [failure.get("message") for failure in failures]
    assert errors, run.output()
    assert all("timed out after 0.1 s" in error.get("message") for error in errors), [
        error.get("message") for error in errors
    ]


def test_infrastructure_errors_are_broken_in_allure(network_runs):
    run = network_runs["timeout-slow"]

    statuses = [
        json.loads(path.read_text(encoding="utf-8"))["status"]
        for path in (run.reports / "allure-results").glob("*-result.json")
    ]

    assert statuses, "no Allure results written"
    assert set(statuses) <= {"broken", "skipped"}, statuses
    assert "broken" in statuses
