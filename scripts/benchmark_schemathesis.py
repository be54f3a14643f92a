#!/usr/bin/env python3
"""Benchmark: the contract suite and Schemathesis run against the same sandbox faults and variants.

Run it with the suite's Python (the one with requirements.txt installed), from the project root:

    python scripts/benchmark_schemathesis.py [--max-examples 50] [--workers 2] [NAME ...]
    python scripts/benchmark_schemathesis.py --validate-only

Schemathesis is not a dependency of the suite. The script installs a pinned Schemathesis and
openapi-spec-validator into .venv-schemathesis on first use, validates
openapi/get-customers-bulk.openapi.yaml, and points Schemathesis at embedded sandboxes that it
starts itself on 127.0.0.1. Schemathesis also runs once against the correct sandbox. A fault
counts as caught, and a variant as flagged, only when its run reports a failure type that the
correct sandbox's run does not report.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import json
import pathlib
import secrets
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from contract_support import fault_matrix  # noqa: E402
from contract_support.sandbox import FAULTS, Credentials, SandboxServer, SandboxSettings  # noqa: E402

SCHEMATHESIS_VERSION = "4.32.5"
SPEC_VALIDATOR_VERSION = "0.9.0"
TOOL_REQUIREMENTS = (f"schemathesis=={SCHEMATHESIS_VERSION}", f"openapi-spec-validator=={SPEC_VALIDATOR_VERSION}")
TOOL_VENV = PROJECT_ROOT / ".venv-schemathesis"
OPENAPI_PATH = PROJECT_ROOT / "openapi" / "get-customers-bulk.openapi.yaml"
# Same largest batch and p95 latency limit as environments/sandbox.yaml, so both tools judge
# the sandbox by the same limits.
MAX_BATCH = 100
MAX_RESPONSE_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 10
# A Schemathesis run against one mode takes seconds. A run past this limit is killed and reported.
SCHEMATHESIS_TIMEOUT_SECONDS = 300
CORRECT_SERVER = "(correct server)"


@dataclasses.dataclass(frozen=True)
class SchemathesisRun:
    """One Schemathesis run against one sandbox mode."""

    name: str
    exit_code: int
    wall_seconds: float
    requests_sent: int
    failure_codes: frozenset[str]
    errors: int
    log_path: pathlib.Path
    problem: str | None = None


def ensure_tool_venv() -> pathlib.Path:
    """Create .venv-schemathesis with the pinned tools unless it has them already, and return its bin folder."""
    bin_dir = TOOL_VENV / "bin"
    stamp = TOOL_VENV / "requirements.txt"
    expected = "\n".join(TOOL_REQUIREMENTS) + "\n"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == expected:
        return bin_dir

    if not (bin_dir / "python").exists():
        print(f"creating {TOOL_VENV}", flush=True)
        venv.create(TOOL_VENV, with_pip=True)
        # Keeps the tool environment out of git without touching the project's .gitignore.
        (TOOL_VENV / ".gitignore").write_text("*\n", encoding="utf-8")
    print(f"installing {' '.join(TOOL_REQUIREMENTS)} into {TOOL_VENV}", flush=True)
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *TOOL_REQUIREMENTS],
        check=True,
    )
    stamp.write_text(expected, encoding="utf-8")
    return bin_dir


def validate_openapi(bin_dir: pathlib.Path) -> None:
    """Validate the OpenAPI description with openapi-spec-validator, exiting on an invalid file."""
    completed = subprocess.run(
        [str(bin_dir / "openapi-spec-validator"), str(OPENAPI_PATH)], capture_output=True, text=True, check=False
    )
    print((completed.stdout + completed.stderr).strip(), flush=True)
    if completed.returncode != 0:
        sys.exit(f"error: {OPENAPI_PATH} is not a valid OpenAPI description; fix it before benchmarking")


def vendor_basic_header(username: str, password: str) -> str:
    """Build the vendor's Basic header value: base64 of username, colon and the md5 hex digest of the password."""
    digest = hashlib.md5(password.encode("utf-8")).hexdigest()
    return "Basic " + base64.b64encode(f"{username}:{digest}".encode("utf-8")).decode("ascii")


def run_schemathesis(
    bin_dir: pathlib.Path, name: str | None, work_dir: pathlib.Path, max_examples: int, seed: int
) -> SchemathesisRun:
    """Start a sandbox playing `name` (None for the correct server) and run Schemathesis against it."""
    label = name or CORRECT_SERVER
    run_dir = work_dir / (name or "correct-server")
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "schemathesis.log"
    report_path = run_dir / "report.json"
    har_path = run_dir / "requests.har"
    credentials = Credentials("benchmark-user", secrets.token_urlsafe(18), "benchmark-key", secrets.token_urlsafe(18))

    with SandboxServer(credentials, fault=name, settings=SandboxSettings(max_batch=MAX_BATCH)) as server:
        command = [
            str(bin_dir / "schemathesis"), "run", str(OPENAPI_PATH), "--url", server.base_url,
            "--header", f"Authorization: {vendor_basic_header(credentials.username, credentials.password)}",
            "--checks", "all", "--max-examples", str(max_examples), "--seed", str(seed),
            "--max-response-time", str(MAX_RESPONSE_SECONDS), "--request-timeout", str(REQUEST_TIMEOUT_SECONDS),
            # Without --continue-on-failure a run stops at its first failure, which can hide a fault.
            "--continue-on-failure", "--workers", "1", "--no-color",
            "--report", "json,har", "--report-json-path", str(report_path), "--report-har-path", str(har_path),
        ]
        started = time.perf_counter()
        problem = None
        with log_path.open("w", encoding="utf-8") as log_file:
            try:
                completed = subprocess.run(
                    command, cwd=run_dir, stdout=log_file, stderr=subprocess.STDOUT,
                    timeout=SCHEMATHESIS_TIMEOUT_SECONDS, check=False,
                )
                exit_code = completed.returncode
            except subprocess.TimeoutExpired:
                exit_code = -1
                problem = f"Schemathesis timed out after {SCHEMATHESIS_TIMEOUT_SECONDS} s"
        wall_seconds = time.perf_counter() - started

    failure_codes: frozenset[str] = frozenset()
    errors = 0
    requests_sent = 0
    if problem is None:
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
            failure_codes = frozenset(failure["code"] for failure in report["failures"])
            errors = len(report["errors"])
            requests_sent = len(json.loads(har_path.read_text(encoding="utf-8"))["log"]["entries"])
        except (OSError, ValueError, KeyError) as error:
            problem = f"Schemathesis exited with code {exit_code} and left no readable report ({error}); see {log_path}"
    return SchemathesisRun(label, exit_code, wall_seconds, requests_sent, failure_codes, errors, log_path, problem)


def run_schemathesis_matrix(
    bin_dir: pathlib.Path, names: Sequence[str], work_dir: pathlib.Path, workers: int, max_examples: int, seed: int
) -> tuple[SchemathesisRun, dict[str, SchemathesisRun]]:
    """Run Schemathesis against the correct sandbox and each named mode, `workers` runs at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        baseline = pool.submit(run_schemathesis, bin_dir, None, work_dir, max_examples, seed)
        futures = {name: pool.submit(run_schemathesis, bin_dir, name, work_dir, max_examples, seed) for name in names}
        return baseline.result(), {name: future.result() for name, future in futures.items()}


def new_failure_codes(run: SchemathesisRun, baseline: SchemathesisRun) -> frozenset[str]:
    return run.failure_codes - baseline.failure_codes


def render_comparison(
    suite_runs: dict[str, fault_matrix.ModeRun],
    suite_seconds: float,
    baseline: SchemathesisRun,
    tool_runs: dict[str, SchemathesisRun],
    tool_seconds: float,
) -> str:
    """Render the side-by-side summary, then one row per fault and variant."""
    faults = [name for name in tool_runs if FAULTS[name].kind == "fault"]
    variants = [name for name in tool_runs if FAULTS[name].kind == "variant"]
    suite_caught = sum(suite_runs[name].caught for name in faults)
    suite_flagged = sum(suite_runs[name].flagged for name in variants)
    tool_caught = sum(bool(new_failure_codes(tool_runs[name], baseline)) for name in faults)
    tool_flagged = sum(bool(new_failure_codes(tool_runs[name], baseline)) for name in variants)
    suite_requests = sum(run.requests_sent for run in suite_runs.values())
    tool_requests = baseline.requests_sent + sum(run.requests_sent for run in tool_runs.values())
    baseline_codes = ", ".join(sorted(baseline.failure_codes)) or "none"

    lines = [
        f"| | contract suite | Schemathesis {SCHEMATHESIS_VERSION} |",
        "|---|---|---|",
        f"| Faults caught | {suite_caught}/{len(faults)} | {tool_caught}/{len(faults)} |",
        f"| Variants flagged (false alarms) | {suite_flagged}/{len(variants)} | {tool_flagged}/{len(variants)} |",
        f"| Failures on the correct server | none | {baseline_codes} |",
        f"| Requests sent (Schemathesis: with the correct server's run) | {suite_requests} | {tool_requests} |",
        f"| Wall time (Schemathesis: with the correct server's run) | {suite_seconds:.1f} s | {tool_seconds:.1f} s |",
        "",
        "| Mode | Rule | Contract suite | Schemathesis (failure codes beyond the correct server's) |",
        "|---|---|---|---|",
    ]
    for name in [*faults, *variants]:
        suite_run = suite_runs[name]
        tool_run = tool_runs[name]
        if tool_run.problem is not None:
            tool_cell = f"run failed: {tool_run.problem}"
        elif FAULTS[name].kind == "fault":
            codes = new_failure_codes(tool_run, baseline)
            tool_cell = f"caught ({', '.join(sorted(codes))})" if codes else "missed"
        else:
            codes = new_failure_codes(tool_run, baseline)
            tool_cell = f"flagged ({', '.join(sorted(codes))})" if codes else "passed"
        if FAULTS[name].kind == "fault":
            count = len(suite_run.catching_tests)
            suite_cell = f"caught by {count} test{'s' if count != 1 else ''}" if suite_run.caught else "missed"
        else:
            suite_cell = "flagged" if suite_run.flagged else "passed"
        lines.append(f"| {name} | {FAULTS[name].rule or '-'} | {suite_cell} | {tool_cell} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/benchmark_schemathesis.py",
        description="Compare the contract suite with Schemathesis on the sandbox's faults and variants.",
    )
    parser.add_argument("names", nargs="*", help="modes to run (default: every fault and variant)")
    parser.add_argument("--workers", type=int, default=fault_matrix.DEFAULT_WORKERS, help="concurrent runs per tool (default: %(default)s)")
    parser.add_argument("--max-examples", type=int, default=50, help="Schemathesis test cases per API operation (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="Schemathesis random seed (default: %(default)s)")
    parser.add_argument("--work-dir", type=pathlib.Path, help="folder for logs and reports (default: a new temporary folder)")
    parser.add_argument("--validate-only", action="store_true", help="only validate the OpenAPI description and exit")
    arguments = parser.parse_args(argv)

    if arguments.workers < 1:
        parser.error(f"--workers must be at least 1, got {arguments.workers}")
    if arguments.max_examples < 1:
        parser.error(f"--max-examples must be at least 1, got {arguments.max_examples}")
    names = arguments.names or fault_matrix.matrix_modes()
    unknown = [name for name in names if name not in FAULTS or FAULTS[name].kind == "network"]
    if unknown:
        parser.error(f"unknown fault or variant {', '.join(unknown)}; see python -m contract_support.sandbox --list-faults")

    bin_dir = ensure_tool_venv()
    validate_openapi(bin_dir)
    if arguments.validate_only:
        return 0
    work_dir = arguments.work_dir or pathlib.Path(tempfile.mkdtemp(prefix="benchmark-schemathesis-"))

    print(f"running the contract suite against {len(names)} modes", flush=True)
    started = time.perf_counter()
    suite_runs = {run.name: run for run in fault_matrix.run_matrix(names, work_dir / "suite", workers=arguments.workers)}
    suite_seconds = time.perf_counter() - started

    print(f"running Schemathesis against {len(names)} modes and the correct server", flush=True)
    started = time.perf_counter()
    baseline, tool_runs = run_schemathesis_matrix(
        bin_dir, names, work_dir / "schemathesis", arguments.workers, arguments.max_examples, arguments.seed
    )
    tool_seconds = time.perf_counter() - started

    print()
    print(render_comparison(suite_runs, suite_seconds, baseline, tool_runs, tool_seconds))
    problems = [run for run in [baseline, *tool_runs.values()] if run.problem is not None]
    for run in problems:
        print(f"warning: Schemathesis run against {run.name} did not complete: {run.problem}", file=sys.stderr)
    print(f"logs and reports in {work_dir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
