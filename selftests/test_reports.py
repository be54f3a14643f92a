"""Self tests of the run's reports and the release gate.

One run of two test modules against the ``id-as-string`` fault writes every report into a
temporary folder, and the tests below read them. The gate is tested on that run and on
hand-written results.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from contract_support import gate
from contract_support.failures import ContractViolation
from contract_support.report_plugin import ALLURE_CATEGORIES, ci_executor

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
TEST_MODULES = ["tests/test_envelope.py", "tests/test_auth.py"]


def run_suite(reports_dir: pathlib.Path, *options: str, ci: bool = False) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name not in ("CI", "GITHUB_ACTIONS")}
    if ci:
        environment.update({"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_RUN_NUMBER": "17",
                            "GITHUB_REPOSITORY": "example/contract", "GITHUB_RUN_ID": "99", "GITHUB_WORKFLOW": "contract"})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *TEST_MODULES,
         f"--reports-dir={reports_dir}", f"--junitxml={reports_dir / 'junit.xml'}", *options],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory) -> tuple[pathlib.Path, subprocess.CompletedProcess[str]]:
    reports_dir = tmp_path_factory.mktemp("faulty-run")
    completed = run_suite(reports_dir, "--sandbox-fault=id-as-string", ci=True)
    assert (reports_dir / "results.json").is_file(), completed.stdout[-3000:] + completed.stderr[-3000:]
    return reports_dir, completed


def allure_results(reports_dir: pathlib.Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in (reports_dir / "allure-results").glob("*-result.json")]


def step_names(steps: list[dict]) -> list[str]:
    names = []
    for step in steps:
        names.append(step["name"])
        names.extend(step_names(step.get("steps", [])))
    return names


def test_results_json_has_latency_overall_and_per_test(faulty_run):
    reports_dir, _ = faulty_run
    results = json.loads((reports_dir / "results.json").read_text())

    assert results["latency_ms"]["count"] == results["responses_received"]
    assert 0 < results["latency_ms"]["p50_ms"] <= results["latency_ms"]["p95_ms"] <= results["latency_ms"]["max_ms"]
    for test in results["tests"]:
        assert test["latency_ms"]["count"] >= 1, test["nodeid"]
    assert results["environment"] == "sandbox"
    assert results["base_url"].startswith("http://127.0.0.1:")


def test_terminal_summary_shows_latency_and_coverage(faulty_run):
    _, completed = faulty_run

    assert re.search(r"responses, p50 [\d.]+ ms, p95 [\d.]+ ms, max [\d.]+ ms", completed.stdout)
    assert "rules without a test: " in completed.stdout


def test_coverage_matrix_lists_uncovered_rules(faulty_run):
    reports_dir, _ = faulty_run
    matrix = json.loads((reports_dir / "rule-coverage.json").read_text())
    rows = {row["rule"]: row for row in matrix["rules"]}

    assert rows["RESULT-COUNT"]["status"] == "uncovered"
    assert rows["ENTITY-SCHEMA"]["status"] == "failed"
    assert rows["AUTH-MISSING"]["status"] == "passed"
    assert "Uncovered rules: " in (reports_dir / "rule-coverage.md").read_text()


def test_junit_has_rule_and_latency_properties(faulty_run):
    reports_dir, _ = faulty_run
    junit = (reports_dir / "junit.xml").read_text()

    assert '<testcase classname="tests.test_auth" name="test_request_without_credentials_refused"' in junit
    assert '<property name="rules" value="AUTH-MISSING" />' in junit
    assert '<property name="latency_p95_ms"' in junit


def test_html_summary_shows_run_and_rules(faulty_run):
    reports_dir, _ = faulty_run
    page = (reports_dir / "report.html").read_text()

    assert "Get Customers Bulk contract: sandbox" in page
    assert "Results per rule" in page
    assert "Base URL" in page
    assert "p95" in page


def test_allure_files_written(faulty_run):
    reports_dir, _ = faulty_run
    folder = reports_dir / "allure-results"

    properties = (folder / "environment.properties").read_text()
    assert "environment=sandbox\n" in properties
    assert "sandbox_fault=id-as-string\n" in properties
    assert json.loads((folder / "categories.json").read_text()) == ALLURE_CATEGORIES
    executor = json.loads((folder / "executor.json").read_text())
    assert executor["buildUrl"] == "https://github.com/example/contract/actions/runs/99"


def test_allure_result_has_rule_labels_and_steps(faulty_run):
    reports_dir, _ = faulty_run
    result = next(r for r in allure_results(reports_dir) if r["name"] == "test_known_batch_matches_envelope_schema")
    labels = {(label["name"], label["value"]) for label in result["labels"]}

    assert ("rule", "ENVELOPE-SCHEMA") in labels
    assert ("severity", "critical") in labels
    assert result["description"].startswith("**ENVELOPE-SCHEMA** (critical, documented):")
    assert result["links"][0]["url"] == "../rule-coverage.html#ENVELOPE-SCHEMA"
    names = step_names(result["steps"])
    assert any(name.startswith("send 127.0.0.1:") for name in names)
    assert "validate schema response/envelope.schema.json (ENTITY-SCHEMA)" in names
    assert result["status"] == "failed"


def matching_categories(message: str, status: str) -> list[str]:
    # Allure matches categories with Java regular expressions against the whole message;
    # these patterns mean the same in Python.
    return [
        category["name"] for category in ALLURE_CATEGORIES
        if status in category["matchedStatuses"] and re.fullmatch(category["messageRegex"], message)
    ]


@pytest.mark.parametrize(
    ("message", "status", "expected"),
    [
        (str(ContractViolation("ENTITY-SCHEMA", "bad", failure_class="schema violation")), "failed", ["Schema violations"]),
        (str(ContractViolation("RESULT-COUNT", "bad")), "failed", ["Semantic violations"]),
        (str(ContractViolation("AUTH-MISSING", "bad", failure_class="wrong status code")), "failed", ["Wrong status codes"]),
        ("AssertionError: $.data is []", "failed", ["Semantic violations"]),
        ("InfrastructureError: infrastructure: POST x: timed out", "broken", ["Infrastructure errors"]),
        ("ConfigError: sandbox.yaml: limits: missing", "broken", ["Configuration errors"]),
        ("KeyError: 'data'", "broken", ["Errors in the suite"]),
    ],
)
def test_allure_categories_match_one_class(message, status, expected):
    assert matching_categories(message, status) == expected


def test_executor_only_in_ci():
    assert ci_executor({}) is None
    assert ci_executor({"CI": "1"})["type"] == "ci"


def test_gate_fails_on_contract_failures(faulty_run, capsys):
    reports_dir, _ = faulty_run

    exit_code = gate.main([str(reports_dir / "results.json")])

    assert exit_code == gate.EXIT_CONTRACT_FAILURES
    assert "contract gate: FAILED" in capsys.readouterr().out


def test_gate_passes_correct_run(tmp_path, capsys):
    completed = run_suite(tmp_path)
    assert completed.returncode == 0, completed.stdout[-3000:]

    exit_code = gate.main([str(tmp_path / "results.json")])

    assert exit_code == gate.EXIT_PASSED
    assert "contract gate: PASSED\n" in capsys.readouterr().out


def write_results(path: pathlib.Path, tests: list[dict]) -> pathlib.Path:
    path.write_text(json.dumps({"requests_sent": 0, "tests": tests}))
    return path


INFRASTRUCTURE_ERROR = {"nodeid": "tests/t.py::test_a", "outcome": "failed", "failure_class": "infrastructure",
                        "message": "infrastructure: timed out"}
CONTRACT_FAILURE = {"nodeid": "tests/t.py::test_a", "outcome": "failed", "failure_class": "schema violation",
                    "message": "[ENTITY-SCHEMA] bad"}
PASSED = {"nodeid": "tests/t.py::test_a", "outcome": "passed"}


def test_gate_reports_infrastructure_errors_without_failing(tmp_path, capsys):
    passed = {"nodeid": "tests/t.py::test_b", "rules": ["RESULT-COUNT"], "outcome": "passed"}
    results = write_results(tmp_path / "results.json", [INFRASTRUCTURE_ERROR, passed])

    exit_code = gate.main([str(results)])

    output = capsys.readouterr().out
    assert exit_code == gate.EXIT_PASSED
    assert "infrastructure: tests/t.py::test_a: infrastructure: timed out" in output
    assert "could not reach a verdict" in output


def test_gate_fails_when_every_test_lost_the_target(tmp_path):
    results = write_results(tmp_path / "results.json", [INFRASTRUCTURE_ERROR])

    assert gate.main([str(results)]) == gate.EXIT_CONTRACT_FAILURES


def test_gate_fails_when_no_test_ran(tmp_path):
    results = write_results(tmp_path / "results.json", [{"nodeid": "t::x", "outcome": "deselected", "rules": []}])

    assert gate.main([str(results)]) == gate.EXIT_CONTRACT_FAILURES


def test_gate_fails_on_unclassified_error(tmp_path):
    results = write_results(tmp_path / "results.json", [{"nodeid": "t::x", "outcome": "error", "failure_class": None}])

    assert gate.main([str(results)]) == gate.EXIT_CONTRACT_FAILURES


@pytest.mark.parametrize(("retried", "expected"), [(PASSED, gate.EXIT_PASSED), (CONTRACT_FAILURE, gate.EXIT_CONTRACT_FAILURES)])
def test_gate_uses_retry_outcome_of_infrastructure_error(tmp_path, retried, expected):
    first = write_results(tmp_path / "first.json", [INFRASTRUCTURE_ERROR])
    retry = write_results(tmp_path / "retry.json", [retried])

    assert gate.main([str(first), "--retry", str(retry)]) == expected


def test_gate_retry_never_replaces_contract_failure(tmp_path):
    first = write_results(tmp_path / "first.json", [CONTRACT_FAILURE])
    retry = write_results(tmp_path / "retry.json", [PASSED])

    assert gate.main([str(first), "--retry", str(retry)]) == gate.EXIT_CONTRACT_FAILURES


def test_gate_lists_infrastructure_errors(tmp_path, capsys):
    results = write_results(tmp_path / "results.json", [INFRASTRUCTURE_ERROR, {**PASSED, "nodeid": "t::other"}])

    assert gate.main([str(results), "--list-infrastructure"]) == gate.EXIT_PASSED
    assert capsys.readouterr().out == "tests/t.py::test_a\n"


def test_gate_annotates_in_github_actions(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    results = write_results(tmp_path / "results.json", [CONTRACT_FAILURE])

    gate.main([str(results)])

    assert "::error::contract: tests/t.py::test_a: [ENTITY-SCHEMA] bad" in capsys.readouterr().out


@pytest.mark.parametrize("content", [None, "not json", '{"tests": {}}'])
def test_gate_rejects_unreadable_results(tmp_path, capsys, content):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)

    assert gate.main([str(path)]) == gate.EXIT_INVALID_INPUT
    assert str(path) in capsys.readouterr().err
