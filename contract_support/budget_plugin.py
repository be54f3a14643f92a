"""pytest plugin that keeps a run within its request budget and reports what it sent.

It creates the run's ``RequestBudget`` (one SQLite file, shared with pytest-xdist workers
through ``workerinput``), loads the environment's Hypothesis profile, skips generated tests
where they are not allowed, fixes their seed in CI, and prints the number of requests sent
in the terminal summary.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import hypothesis
import pytest

from contract_support import budget
from contract_support.budget import BUDGET_KEY
from contract_support.plugin import ENVIRONMENT_KEY, RECORDER_KEY

# Set only in the process that owns the budget file and deletes it at the end.
BUDGET_DIRECTORY_KEY = pytest.StashKey[pathlib.Path]()
SENT_TOTALS_KEY = pytest.StashKey[dict[str, int]]()
WORKER_INPUT_PATH = "contract_budget_path"
WORKER_OUTPUT_SENT = "contract_requests_sent"
WORKER_OUTPUT_RETRIES = "contract_retries_charged"


def _is_ci() -> bool:
    return bool(os.environ.get("CI"))


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    environment = config.stash.get(ENVIRONMENT_KEY, None)
    if environment is None:
        return

    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        database_path = pathlib.Path(worker_input[WORKER_INPUT_PATH])
    else:
        directory = pathlib.Path(tempfile.mkdtemp(prefix="contract-budget-"))
        config.stash[BUDGET_DIRECTORY_KEY] = directory
        database_path = directory / "requests.sqlite"
    config.stash[BUDGET_KEY] = budget.RequestBudget(environment.limits.requests_per_minute, database_path)
    config.stash[SENT_TOTALS_KEY] = {"sent": 0, "retries": 0}

    if not config.getoption("hypothesis_profile", default=None):
        budget.load_hypothesis_profile(environment, ci=_is_ci())


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Hand the budget file to a pytest-xdist worker, so all workers share one budget."""
    request_budget = node.config.stash.get(BUDGET_KEY, None)
    if request_budget is not None:
        node.workerinput[WORKER_INPUT_PATH] = str(request_budget.database_path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    environment = config.stash.get(ENVIRONMENT_KEY, None)
    if environment is None:
        return

    allow_floods = config.getoption("allow_production_floods", default=False)
    skip_reason = budget.generated_tests_skip_reason(environment, allow_floods)
    seed = environment.hypothesis.get("seed")
    for item in items:
        test_function = getattr(item, "function", None)
        if test_function is None or not hypothesis.is_hypothesis_test(test_function):
            continue
        if skip_reason is not None:
            item.add_marker(pytest.mark.skip(reason=skip_reason))
        elif seed is not None and _is_ci() and not config.getoption("hypothesis_seed", default=None):
            hypothesis.seed(seed)(test_function)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    request_budget = session.config.stash.get(BUDGET_KEY, None)
    if request_budget is None:
        return
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:
        worker_output[WORKER_OUTPUT_SENT] = request_budget.requests_sent
        worker_output[WORKER_OUTPUT_RETRIES] = request_budget.retries_charged
        return

    # results.json counts every request sent, as the terminal does, not only those that got a response.
    recorder = session.config.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        totals = session.config.stash[SENT_TOTALS_KEY]
        recorder.summary_sections["requests_sent"] = request_budget.requests_sent + totals["sent"]
        recorder.summary_sections["retries"] = request_budget.retries_charged + totals["retries"]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    totals = node.config.stash.get(SENT_TOTALS_KEY, None)
    output = getattr(node, "workeroutput", None) or {}
    if totals is not None:
        totals["sent"] += output.get(WORKER_OUTPUT_SENT, 0)
        totals["retries"] += output.get(WORKER_OUTPUT_RETRIES, 0)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    request_budget = config.stash.get(BUDGET_KEY, None)
    if request_budget is None:
        return
    totals = config.stash[SENT_TOTALS_KEY]
    sent = request_budget.requests_sent + totals["sent"]
    retries = request_budget.retries_charged + totals["retries"]
    terminalreporter.write_sep("-", "contract requests")
    terminalreporter.write_line(
        f"requests sent: {sent} (including {retries} urllib3 retries); "
        f"budget: {request_budget.requests_per_minute} requests a minute, shared by all workers"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    request_budget = config.stash.get(BUDGET_KEY, None)
    if request_budget is not None:
        request_budget.close()
    directory = config.stash.get(BUDGET_DIRECTORY_KEY, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
