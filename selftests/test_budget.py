"""Self tests of the request budget: rates, sharing between processes, Hypothesis profiles.

The end-to-end test runs part of the suite against the embedded sandbox with a budget of
100 requests a minute and reads each request's start time from the client's log lines. The
limiter admits 10 requests in any 6 seconds, so no minute can hold more than 100.
"""

from __future__ import annotations

import multiprocessing
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

from contract_support import budget
from contract_support.config import load_environment

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
THROTTLED_ENVIRONMENT = PROJECT_ROOT / "selftests" / "environments" / "throttled.yaml"
WINDOW_SECONDS = 6.0
# Clock readings of the limiter (SQLite) and of the log records differ by a few milliseconds.
CLOCK_TOLERANCE_SECONDS = 0.1
CLIENT_LOG_LINE = re.compile(r"^(?P<created>\d+\.\d+) contract_support\.client \S+ \S+ -> \d+ in (?P<ms>\d+) ms$")


def test_rates_keep_every_minute_within_budget():
    rates = budget.rates_for(100)
    small_rates = budget.rates_for(5)

    assert [(rate.limit, rate.interval) for rate in rates] == [(10, 6000)]
    assert [(rate.limit, rate.interval) for rate in small_rates] == [(5, 60000)]


def _acquire_and_report(database_path: str, count: int, queue) -> None:
    request_budget = budget.RequestBudget(20, pathlib.Path(database_path))
    for _ in range(count):
        request_budget.acquire()
        queue.put(time.time())
    request_budget.close()


def test_budget_shared_between_processes(tmp_path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    database_path = str(tmp_path / "requests.sqlite")
    processes = [context.Process(target=_acquire_and_report, args=(database_path, 2, queue)) for _ in range(2)]

    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=30)
    timestamps = sorted(queue.get(timeout=5) for _ in range(4))

    # 20 a minute allows 2 requests per 6 seconds, counted across both processes.
    assert all(process.exitcode == 0 for process in processes)
    assert timestamps[2] - timestamps[0] >= WINDOW_SECONDS - CLOCK_TOLERANCE_SECONDS, timestamps
    assert timestamps[3] - timestamps[1] >= WINDOW_SECONDS - CLOCK_TOLERANCE_SECONDS, timestamps


def test_throttled_run_stays_within_rate(tmp_path):
    log_file = tmp_path / "client.log"
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/test_generated.py::test_generated_batch_follows_contract",
        "tests/test_metamorphic.py::test_repeated_request_same_answer",
        "--env", str(THROTTLED_ENVIRONMENT), "--no-reports",
        f"--log-file={log_file}", "--log-file-level=INFO", "--log-file-format=%(created).6f %(name)s %(message)s",
    ]

    completed = subprocess.run(
        command, cwd=PROJECT_ROOT, env={**os.environ, "CI": "1"}, capture_output=True, text=True, timeout=120
    )

    assert completed.returncode == 0, completed.stdout[-3000:]
    starts = sorted(
        float(match["created"]) - int(match["ms"]) / 1000
        for match in map(CLIENT_LOG_LINE.match, log_file.read_text(encoding="utf-8").splitlines())
        if match
    )
    limit = load_environment(str(THROTTLED_ENVIRONMENT)).limits.requests_per_minute // budget.WINDOWS_PER_MINUTE
    assert len(starts) > limit, f"only {len(starts)} requests, too few to reach the limit of {limit} per window"
    busiest = max(
        sum(1 for other in starts if start <= other < start + WINDOW_SECONDS - CLOCK_TOLERANCE_SECONDS)
        for start in starts
    )
    assert busiest <= limit, f"{busiest} requests started within {WINDOW_SECONDS} s; the limit is {limit}"
    assert f"requests sent: {len(starts)} " in completed.stdout, completed.stdout[-2000:]


# Hypothesis profiles.


def test_profile_sizes_follow_environment():
    sandbox = load_environment("sandbox")
    staging = load_environment("staging")

    sandbox_settings = budget.hypothesis_settings(sandbox, ci=False)
    staging_settings = budget.hypothesis_settings(staging, ci=True)

    assert sandbox_settings.max_examples == sandbox.hypothesis["max_examples"]
    assert staging_settings.max_examples == staging.hypothesis["max_examples"]
    assert sandbox_settings.deadline is None
    assert not sandbox_settings.derandomize
    # staging sets hypothesis.seed, which fixes its examples in CI instead of derandomize.
    assert not staging_settings.derandomize
    assert budget.hypothesis_settings(sandbox, ci=True).derandomize


@pytest.mark.parametrize("allow_floods", [False, True], ids=["without-flag", "with-flag"])
def test_production_generates_only_with_flag(allow_floods):
    production = load_environment("eu")

    reason = budget.generated_tests_skip_reason(production, allow_floods)

    if allow_floods:
        assert reason is None
        assert budget.hypothesis_settings(production, ci=True).max_examples == budget.DEFAULT_EXAMPLES["production"]
    else:
        assert "--allow-production-floods" in reason
