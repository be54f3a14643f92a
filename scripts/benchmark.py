#!/usr/bin/env python3
"""Benchmark of the contract suite on the embedded sandbox: requests, wall time, schema validation.

Runs the whole suite once in a subprocess against the embedded sandbox and prints the
requests it sent and its wall time. Then starts a sandbox of its own, fetches responses
of 1, 10 and 100 customers, and times the schema validation that every 200 response
goes through (validators are compiled once and cached, as in the suite). Prints
the machine it ran on beside the figures. It prints and asserts nothing.

Usage: python scripts/benchmark.py [--repeats N] [--skip-suite]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from contract_support import schemas  # noqa: E402
from contract_support.checks import ENVELOPE_SCHEMA  # noqa: E402
from contract_support.sandbox.server import SandboxServer  # noqa: E402
from contract_support.sandbox.settings import Credentials  # noqa: E402

FIRST_CUSTOMER_ID = 400000001
BATCH_SIZES = (1, 10, 100)
TARGET_MILLISECONDS_FOR_100 = 5.0


def describe_machine() -> str:
    cpu_model = platform.processor() or platform.machine()
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(encoding="utf-8"), re.MULTILINE)
        if match:
            cpu_model = match.group(1).strip()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"machine: {usable} usable cores (nproc), {os.cpu_count()} in total, {cpu_model}; "
        f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


def run_suite() -> None:
    """Run the contract suite on the embedded sandbox and print its requests and wall time."""
    with tempfile.TemporaryDirectory(prefix="contract-benchmark-") as reports_dir:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--reports-dir={reports_dir}"]
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
        wall_seconds = time.perf_counter() - started

        sent = re.search(r"requests sent: (\d+)", completed.stdout)
        outcome = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "(no output)"
        results = json.loads((pathlib.Path(reports_dir) / "results.json").read_text(encoding="utf-8"))

    print(f"suite: python {' '.join(command[1:])} (exit {completed.returncode}): {outcome}")
    print(f"  requests sent: {sent.group(1) if sent else 'not reported'} (results.json: {results['requests_sent']})")
    print(f"  wall time: {wall_seconds:.2f} s, of which pytest reports {results['duration_seconds']:.2f} s")


def fetch_bodies() -> dict[int, dict]:
    """Start a sandbox on 127.0.0.1 and return a 200 body for each batch size."""
    import requests

    from contract_support.auth import basic_header_value

    credentials = Credentials("benchmark", secrets.token_urlsafe(12), "key", secrets.token_urlsafe(12))
    headers = {
        "Authorization": basic_header_value(credentials.username, password=credentials.password),
        "Content-Type": "application/json",
    }
    bodies = {}
    with SandboxServer(credentials) as server:
        for size in BATCH_SIZES:
            ids = list(range(FIRST_CUSTOMER_ID, FIRST_CUSTOMER_ID + size))
            response = requests.post(
                server.base_url + "/v2/bulk/getCustomers", data=json.dumps(ids), headers=headers, timeout=10
            )
            response.raise_for_status()
            bodies[size] = response.json()
    return bodies


def time_validation(bodies: dict[int, dict], repeats: int) -> None:
    """Print the median time of one envelope validation per batch size."""
    for body in bodies.values():
        if schemas.iter_errors(ENVELOPE_SCHEMA, body):
            raise SystemExit(
                f"a {len(body['data'])}-entity sandbox response does not match {ENVELOPE_SCHEMA}; "
                "fix the sandbox or the schema before timing the validation"
            )

    for size, body in bodies.items():
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            schemas.iter_errors(ENVELOPE_SCHEMA, body)
            timings.append((time.perf_counter() - started) * 1000)
        median = statistics.median(timings)
        note = ""
        if size == 100:
            verdict = "within" if median <= TARGET_MILLISECONDS_FOR_100 else "over"
            note = f" ({verdict} the {TARGET_MILLISECONDS_FOR_100:.0f} ms target)"
        print(
            f"  {size:>3} entities: median {median:.2f} ms, min {min(timings):.2f} ms, "
            f"max {max(timings):.2f} ms over {repeats} validations{note}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="validations timed per batch size (default: 200)")
    parser.add_argument("--skip-suite", action="store_true", help="time the schema validation only")
    arguments = parser.parse_args()

    print(describe_machine())
    if not arguments.skip_suite:
        run_suite()
    print(f"schema validation of one 200 response ({ENVELOPE_SCHEMA}, format checking on):")
    time_validation(fetch_bodies(), arguments.repeats)


if __name__ == "__main__":
    main()
