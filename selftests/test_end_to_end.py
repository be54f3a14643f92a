"""End-to-end self test: the contract suite runs against the embedded sandbox and writes its reports."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    junit = reports / "junit.xml"
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider", "-q",
            f"--reports-dir={reports}", f"--junitxml={junit}",
        ],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
        env={key: value for key, value in os.environ.items() if key != "CONTRACT_ENV"},
    )
    return result, reports


def test_suite_passes_on_sandbox(suite_run):
    result, _ = suite_run

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert " failed" not in result.stdout


def test_html_report_is_self_contained(suite_run):
    _, reports = suite_run
    report = reports / "report.html"

    text = report.read_text(encoding="utf-8")

    assert "test_one_result_per_requested_id" in text
    assert not (reports / "assets").exists(), "the HTML report should not need an assets folder"


def test_allure_results_written_per_test(suite_run):
    _, reports = suite_run
    results = list((reports / "allure-results").glob("*-result.json"))

    names = {json.loads(path.read_text())["name"] for path in results}

    assert "test_one_result_per_requested_id" in names
    assert len(results) >= 30


def test_results_json_lists_rules_and_requests(suite_run):
    _, reports = suite_run

    summary = json.loads((reports / "results.json").read_text())

    assert summary["requests_sent"] > 30
    by_name = {entry["nodeid"].split("::")[-1]: entry for entry in summary["tests"]}
    assert by_name["test_one_result_per_requested_id"]["rules"] == ["RESULT-COUNT"]
    assert all(entry["rules"] for entry in summary["tests"]), "every contract test carries a rule marker"


def test_calls_attached_with_curl(suite_run):
    _, reports = suite_run
    attachments = list((reports / "allure-results").glob("*-attachment.txt"))

    texts = [path.read_text(encoding="utf-8") for path in attachments]
    texts = [text for text in texts if text.startswith(("POST ", "GET "))]

    assert len(texts) >= 30
    assert all("reproduce: curl --request" in text for text in texts)
    assert all('"Authorization: $AUTHORIZATION"' in text for text in texts if "Authorization" in text)


def test_junit_xml_names_tests(suite_run):
    _, reports = suite_run

    text = (reports / "junit.xml").read_text(encoding="utf-8")

    assert 'name="test_unknown_id_fails_with_not_found_error"' in text


def test_parallel_run_reports_every_test(tmp_path):
    reports = tmp_path / "reports"
    command = [
        sys.executable, "-m", "pytest", "tests/test_envelope.py", "tests/test_results.py", "-p", "no:cacheprovider",
        "-q", "-n", "2", "--sandbox-fault=id-as-string", f"--reports-dir={reports}",
    ]

    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    summary = json.loads((reports / "results.json").read_text())
    gate = subprocess.run(
        [sys.executable, "-m", "contract_support.gate", str(reports / "results.json")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 1, result.stdout[-3000:]
    outcomes = {entry["outcome"] for entry in summary["tests"]}
    assert len(summary["tests"]) >= 18, f"results.json lists {len(summary['tests'])} tests"
    assert "failed" in outcomes
    assert summary["requests_sent"] >= 18
    assert summary["latency_ms"]["count"] == summary["responses_received"]
    assert gate.returncode == 1, gate.stdout + gate.stderr


def test_unreachable_target_ends_in_infrastructure_errors(tmp_path):
    reports = tmp_path / "reports"
    command = [
        sys.executable, "-m", "pytest", "tests/test_envelope.py", "-p", "no:cacheprovider", "-q",
        "--env=selftests/environments/unreachable.yaml", f"--reports-dir={reports}",
    ]

    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    summary = json.loads((reports / "results.json").read_text())
    gate = subprocess.run(
        [sys.executable, "-m", "contract_support.gate", str(reports / "results.json")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 1
    assert " failed" not in result.stdout.splitlines()[-1]
    assert {entry["failure_class"] for entry in summary["tests"]} == {"infrastructure"}
    assert {entry["outcome"] for entry in summary["tests"]} == {"error"}
    assert "Error (infrastructure)" in (reports / "report.html").read_text(encoding="utf-8")
    attachments = [path.read_text() for path in (reports / "allure-results").glob("*-attachment.txt")]
    failed_calls = [text for text in attachments if text.startswith("POST ")]
    assert failed_calls, "calls without a response are attached too"
    assert all("error: no response" in text and "reproduce: curl" in text for text in failed_calls)
    assert gate.returncode == 1, gate.stdout
    assert "no test reached a verdict" in gate.stdout


def test_suite_passes_at_schema_minimums(tmp_path):
    command = [
        sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider", "-q", "--no-reports",
        "--env=selftests/environments/minimal.yaml",
    ]

    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stdout[-4000:]
