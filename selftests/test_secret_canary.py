"""Self test: no credential reaches any file or output of a suite run.

The suite runs in subprocesses with distinctive canary credentials, with debug logging, every
test's output in the report (-rA) and captured logs in JUnit XML, so as much text as possible
is written. Then every file the run wrote and its stdout and stderr are searched for the
password, its md5 digest, the base64 Basic token, the OAuth key and secret and every OAuth
token the sandbox issued. Runs against a contract fault put failure messages, with their curl
commands, into the scanned text too.
"""

from __future__ import annotations

import base64
import hashlib
import pathlib

import pytest

from contract_support.sandbox import Credentials, SandboxServer
from contract_support.sandbox.auth import TokenStore
from test_flaky_network import ENVIRONMENTS, SuiteRun, finish_suite, start_suite

CANARY_USERNAME = "canary.user.4d1f"
CANARY_PASSWORD = "CanaryPassword-7f3a9c2e"
CANARY_OAUTH_KEY = "canary-oauth-key-5b1e8a"
CANARY_OAUTH_SECRET = "canary-oauth-secret-9d2c6f"
CANARY_ENVIRONMENT = {
    "SANDBOX_USERNAME": CANARY_USERNAME,
    "SANDBOX_PASSWORD": CANARY_PASSWORD,
    "SANDBOX_OAUTH_KEY": CANARY_OAUTH_KEY,
    "SANDBOX_OAUTH_SECRET": CANARY_OAUTH_SECRET,
}
VERBOSE_OUTPUT = [
    "-rA", "-o", "log_level=DEBUG", "-o", "junit_logging=all", "-o", "junit_log_passing_tests=true",
]
# A contract fault whose failures carry the request, the response and a curl command.
FAULT = "auth-wrong-password-accepted"
OAUTH_FAULT = "html-error-page"


def canary_secrets() -> dict[str, str]:
    """Return every form of the canary credentials that must not be written, by name."""
    password_md5 = hashlib.md5(CANARY_PASSWORD.encode("utf-8")).hexdigest()
    basic_token = base64.b64encode(f"{CANARY_USERNAME}:{password_md5}".encode("utf-8")).decode("ascii")
    return {
        "password": CANARY_PASSWORD,
        "password md5": password_md5,
        "Basic token": basic_token,
        "OAuth key": CANARY_OAUTH_KEY,
        "OAuth secret": CANARY_OAUTH_SECRET,
    }


def find_secrets(run: SuiteRun, secrets: dict[str, str]) -> list[str]:
    """Return one line per secret found, naming the secret and the file or stream that has it."""
    texts = {"stdout": run.stdout.encode("utf-8"), "stderr": run.stderr.encode("utf-8")}
    for path in sorted(run.reports.parent.rglob("*")):
        if path.is_file():
            texts[str(path)] = path.read_bytes()

    found = []
    for where, content in texts.items():
        for name, secret in secrets.items():
            if secret.encode("utf-8") in content:
                found.append(f"{name} in {where}")
    return found


@pytest.fixture(scope="module")
def issued_tokens(monkeypatch_module) -> list[str]:
    """Record every OAuth token that a sandbox of this process issues."""
    tokens: list[str] = []
    issue = TokenStore.issue

    def recording_issue(store: TokenStore) -> str:
        token = issue(store)
        tokens.append(token)
        return token

    monkeypatch_module.setattr(TokenStore, "issue", recording_issue)
    return tokens


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield monkeypatch


@pytest.fixture(scope="module")
def canary_runs(tmp_path_factory, issued_tokens) -> dict[str, SuiteRun]:
    credentials = Credentials(CANARY_USERNAME, CANARY_PASSWORD, CANARY_OAUTH_KEY, CANARY_OAUTH_SECRET)
    oauth_environment = ["--env", str(ENVIRONMENTS / "safety-oauth.yaml")]
    with SandboxServer(credentials, fault=OAUTH_FAULT) as server:
        runs = {
            "basic": [*VERBOSE_OUTPUT],
            "basic-fault": [*VERBOSE_OUTPUT, "--sandbox-fault", FAULT],
            "oauth": [*VERBOSE_OUTPUT, *oauth_environment],
            # This sandbox runs in this process, so the tokens it issues are known to the scan.
            "oauth-own-sandbox-fault": [*VERBOSE_OUTPUT, *oauth_environment, "--base-url", server.base_url],
        }
        started = {
            name: start_suite(tmp_path_factory.mktemp(name), *arguments, env=CANARY_ENVIRONMENT)
            for name, arguments in runs.items()
        }
        return {name: finish_suite(*process_and_reports) for name, process_and_reports in started.items()}


@pytest.mark.parametrize("run_name", ["basic", "basic-fault", "oauth", "oauth-own-sandbox-fault"])
def test_run_writes_no_canary_secret(canary_runs, issued_tokens, run_name):
    run = canary_runs[run_name]
    secrets = canary_secrets()
    secrets.update({f"issued token {index}": token for index, token in enumerate(issued_tokens)})

    found = find_secrets(run, secrets)

    assert run.junit.is_file(), run.output()
    assert (run.reports / "report.html").is_file(), run.output()
    assert found == []


@pytest.mark.parametrize("run_name", ["basic", "oauth"])
def test_canary_credentials_accepted(canary_runs, run_name):
    run = canary_runs[run_name]

    assert run.returncode == 0, run.output()


@pytest.mark.parametrize("run_name", ["basic-fault", "oauth-own-sandbox-fault"])
def test_fault_run_writes_failure_messages(canary_runs, run_name):
    run = canary_runs[run_name]

    junit = run.junit.read_text(encoding="utf-8")

    assert run.junit_counts()["failures"] > 0, run.output()
    assert "curl --request POST" in junit, "the scanned failure messages carry no curl command"


def test_oauth_tokens_were_issued(canary_runs, issued_tokens):
    assert canary_runs["oauth-own-sandbox-fault"].returncode == 1
    assert issued_tokens, "the sandbox issued no OAuth token, so the token scan checked nothing"


def test_scan_finds_planted_secret(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "leak.txt").write_text(f"Authorization: Basic {canary_secrets()['Basic token']}", encoding="utf-8")
    run = SuiteRun(0, f"password={CANARY_PASSWORD}", "", reports, tmp_path / "junit.xml")

    found = find_secrets(run, canary_secrets())

    assert found == ["password in stdout", f"Basic token in {reports / 'leak.txt'}"]
