"""Self test: on an environment marked production only the smoke tests run, unless floods are allowed.

The environment file is an embedded sandbox marked ``production: true``, so the guard is
exercised end to end without touching a real cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test_flaky_network import ENVIRONMENTS, PROJECT_ROOT, finish_suite, start_suite

PRODUCTION = str(ENVIRONMENTS / "safety-production.yaml")


def collected_ids(*arguments: str) -> set[str]:
    environment = {key: value for key, value in os.environ.items() if key != "CONTRACT_ENV"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "--no-reports", *arguments],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return {line for line in result.stdout.splitlines() if line.startswith("tests/")}


@pytest.fixture(scope="module")
def guarded_run(tmp_path_factory):
    # -v cancels the -q of start_suite, so the report header is printed.
    return finish_suite(*start_suite(tmp_path_factory.mktemp("production"), "-v", "--env", PRODUCTION))


def test_production_selects_smoke_tests_only():
    smoke = collected_ids("-m", "smoke")
    everything = collected_ids()

    production = collected_ids("--env", PRODUCTION)

    assert smoke, "no test is marked smoke"
    assert production == smoke
    assert len(everything) > len(smoke)


def test_allow_floods_selects_every_test():
    everything = collected_ids()

    production = collected_ids("--env", PRODUCTION, "--allow-production-floods")

    assert production == everything


def test_production_run_passes_and_says_so(guarded_run):
    smoke_count = len(collected_ids("-m", "smoke"))
    deselected = len(collected_ids()) - smoke_count

    assert guarded_run.returncode == 0, guarded_run.output()
    assert "production guard: safety-production is production, so only tests marked smoke run" in guarded_run.stdout
    assert f"production guard: {deselected} tests not marked smoke deselected, {smoke_count} smoke tests selected" in (
        guarded_run.stdout
    ), guarded_run.output()
    assert f"{deselected} deselected" in guarded_run.stdout
    assert guarded_run.junit_counts()["tests"] == smoke_count


def test_allow_floods_warns_in_header():
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "--no-reports",
            "--env", PRODUCTION, "--allow-production-floods",
        ],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )

    assert "PRODUCTION GUARD OFF: safety-production is production and --allow-production-floods is set" in (
        result.stdout
    ), result.stdout[:2000]
