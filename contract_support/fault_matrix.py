"""Fault matrix: the contract suite run against every sandbox fault and variant, and what it caught.

Each mode gets its own ``python -m pytest tests`` subprocess with ``--sandbox-fault NAME`` and
its own reports folder, so runs share nothing but the CPU. A fault counts as caught when at
least one failed or errored test names the fault's rule in its ``rule`` marker or in the rule
of the ``ContractViolation`` it raised. A variant is flagged when any test fails or errors.

Command line, printing the matrix and exiting non-zero when a fault is missed or a variant flagged::

    python -m contract_support.fault_matrix [--workers 2] [--work-dir DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from contract_support.rules import RULES
from contract_support.sandbox.faults import FAULTS, fault_names

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
FAULTS_DOC = PROJECT_ROOT / "docs" / "faults.md"
MATRIX_MARKDOWN = PROJECT_ROOT / "reports" / "fault-matrix.md"
DEFAULT_WORKERS = 2
# A suite run takes seconds, and slow-large-batches adds about 20 s of deliberate delay. A run
# past this limit counts as hung and is killed.
RUN_TIMEOUT_SECONDS = 300
# Variables that could point a matrix run at another environment or change its options.
ISOLATED_VARIABLES = ("CONTRACT_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
# Generated tests send most of a run's requests. Five examples per test and a fixed seed keep
# a run at about 4 s instead of 7 s and make a run's generated requests repeatable. Measured on
# 2 cores with Python 3.11.
MATRIX_ENVIRONMENT = {"CONTRACT_HYPOTHESIS_MAX_EXAMPLES": "5"}
MATRIX_PYTEST_ARGS = ("--hypothesis-seed=0",)
FAILED_OUTCOMES = ("failed", "error")
# Modes that make the suite wait on purpose; they start first.
SLOW_MODES = frozenset({"slow-large-batches"})


@dataclasses.dataclass(frozen=True)
class TestResult:
    """One test's entry of a run's results.json."""

    nodeid: str
    rules: tuple[str, ...]
    outcome: str
    violated_rule: str | None
    message: str

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES

    def names_rule(self, rule_id: str) -> bool:
        return rule_id in self.rules or rule_id == self.violated_rule


@dataclasses.dataclass(frozen=True)
class ModeRun:
    """The contract suite's run against one sandbox mode: exit code, timing, log and test results."""

    name: str
    kind: str
    rule: str
    exit_code: int
    wall_seconds: float
    requests_sent: int
    log_path: pathlib.Path
    tests: tuple[TestResult, ...]
    # Set when the run produced no results.json, for example when pytest hit a usage error.
    problem: str | None = None

    @property
    def failed_tests(self) -> list[TestResult]:
        return [test for test in self.tests if test.failed]

    @property
    def catching_tests(self) -> list[TestResult]:
        """Failed or errored tests that name the mode's rule, always empty for variants."""
        if not self.rule:
            return []
        return [test for test in self.failed_tests if test.names_rule(self.rule)]

    @property
    def caught(self) -> bool:
        return self.problem is None and bool(self.catching_tests)

    @property
    def flagged(self) -> bool:
        """True when a variant run failed a test or did not finish; harmless modes must pass cleanly."""
        return self.problem is not None or bool(self.failed_tests)

    @property
    def ok(self) -> bool:
        return self.caught if self.kind == "fault" else not self.flagged


def matrix_modes() -> list[str]:
    """Return the names of every fault, then every variant, in catalogue order."""
    return fault_names("fault") + fault_names("variant")


def suite_command(name: str, reports_dir: pathlib.Path, extra_args: Sequence[str] = ()) -> list[str]:
    """Build the pytest command line that runs the contract suite against the sandbox playing `name`."""
    return [
        sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider",
        "--env", "sandbox", "--sandbox-fault", name, f"--reports-dir={reports_dir}", "-q",
        *extra_args,
    ]


def _subprocess_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in ISOLATED_VARIABLES}
    environment.update(overrides)
    return environment


def run_mode(
    name: str,
    work_dir: pathlib.Path,
    extra_args: Sequence[str] = MATRIX_PYTEST_ARGS,
    environment_overrides: Mapping[str, str] = MATRIX_ENVIRONMENT,
) -> ModeRun:
    """Run the contract suite against the sandbox playing `name` and read its results.json.

    The pytest output goes to ``work_dir/<name>/pytest.log``. A run that writes no
    results.json, or outlives RUN_TIMEOUT_SECONDS, comes back with `problem` set.
    """
    fault = FAULTS[name]
    reports_dir = work_dir / name
    reports_dir.mkdir(parents=True, exist_ok=True)
    log_path = reports_dir / "pytest.log"
    command = suite_command(name, reports_dir, extra_args)

    started = time.perf_counter()
    problem = None
    with log_path.open("w", encoding="utf-8") as log_file:
        log_file.write("$ " + " ".join(command) + "\n")
        log_file.flush()
        try:
            completed = subprocess.run(
                command, cwd=PROJECT_ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                env=_subprocess_environment(environment_overrides), timeout=RUN_TIMEOUT_SECONDS, check=False,
            )
            exit_code = completed.returncode
        except subprocess.TimeoutExpired:
            exit_code = -1
            problem = f"the run timed out after {RUN_TIMEOUT_SECONDS} s"
    wall_seconds = time.perf_counter() - started

    results_path = reports_dir / "results.json"
    summary: dict[str, Any] = {}
    if problem is None:
        try:
            summary = json.loads(results_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problem = f"pytest exited with code {exit_code} and left no readable {results_path} ({error})"
    if problem is None and exit_code not in (0, 1):
        # Exit codes 2-5 mean interrupted, internal error, usage error or no tests collected.
        problem = f"pytest exited with code {exit_code}, so the run did not complete"

    tests = tuple(
        TestResult(
            nodeid=entry["nodeid"],
            rules=tuple(entry.get("rules", ())),
            outcome=entry["outcome"],
            violated_rule=entry.get("violated_rule"),
            message=entry.get("message") or "",
        )
        for entry in summary.get("tests", ())
    )
    return ModeRun(
        name=name, kind=fault.kind, rule=fault.rule, exit_code=exit_code, wall_seconds=wall_seconds,
        requests_sent=summary.get("requests_sent", 0), log_path=log_path, tests=tests, problem=problem,
    )


def run_matrix(
    names: Iterable[str],
    work_dir: pathlib.Path,
    workers: int = DEFAULT_WORKERS,
    extra_args: Sequence[str] = MATRIX_PYTEST_ARGS,
    environment_overrides: Mapping[str, str] = MATRIX_ENVIRONMENT,
    on_done: Callable[[ModeRun, int, int], None] | None = None,
) -> list[ModeRun]:
    """Run the suite against each named mode, `workers` subprocesses at a time, and return runs in the order of `names`.

    The slowest modes start first, so they overlap with the quick ones instead of ending the run alone.
    `on_done` gets each run as it ends, with the number of runs done and the total, for progress output.
    """
    ordered = list(names)
    for name in ordered:
        if name not in FAULTS:
            raise ValueError(f"unknown sandbox mode {name!r}; valid names: {', '.join(fault_names())}")
    start_order = sorted(ordered, key=lambda name: name not in SLOW_MODES)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            name: pool.submit(run_mode, name, work_dir, extra_args, environment_overrides) for name in start_order
        }
        if on_done is not None:
            for done, future in enumerate(as_completed(futures.values()), start=1):
                on_done(future.result(), done, len(futures))
        return [futures[name].result() for name in ordered]


def describe_miss(run: ModeRun) -> str:
    """Explain why a run does not count as a catch (for faults) or as clean (for variants)."""
    if run.problem is not None:
        return f"{run.problem}; see {run.log_path}"
    if run.kind == "fault":
        if not run.failed_tests:
            failed = "nothing failed"
        else:
            failed = "only tests of other rules failed: " + "; ".join(
                f"{test.nodeid} ({test.outcome}, rules {', '.join(test.rules) or '-'}, "
                f"violated rule {test.violated_rule or '-'})"
                for test in run.failed_tests
            )
        return f"fault {run.name} breaks rule {run.rule}, but {failed}; log: {run.log_path}"
    flagged = "; ".join(
        f"{test.nodeid} {test.outcome}: {test.message.splitlines()[0] if test.message else '(no message)'}"
        for test in run.failed_tests
    )
    return f"variant {run.name} is harmless, but the suite flagged it: {flagged}; log: {run.log_path}"


def group_node_ids(tests: Sequence[TestResult]) -> list[str]:
    """Group node IDs by test function: ``file.py::test_x[a, b]`` stands for two parametrized cases."""
    groups: dict[str, list[str]] = {}
    for test in tests:
        function, bracket, parameters = test.nodeid.partition("[")
        cases = groups.setdefault(function, [])
        if bracket:
            cases.append(parameters.removesuffix("]"))
    return [f"{function}[{', '.join(cases)}]" if cases else function for function, cases in groups.items()]


def _test_names(tests: Sequence[TestResult]) -> str:
    return "<br>".join(f"`{name.removeprefix('tests/')}`" for name in group_node_ids(tests))


def _status(run: ModeRun) -> str:
    if run.kind == "fault":
        return "caught" if run.caught else "MISSED"
    return "FLAGGED" if run.flagged else "passed"


def render_matrix_text(runs: Sequence[ModeRun]) -> str:
    """Render the matrix as plain text: one line per mode, then the catching tests indented below it."""
    width = max((len(run.name) for run in runs), default=10)
    lines = [f"{'mode':<{width}}  {'rule':<24} {'status':<8} {'catching':>8} {'failed':>6} {'seconds':>7}"]
    for run in runs:
        lines.append(
            f"{run.name:<{width}}  {run.rule or '-':<24} {_status(run):<8} {len(run.catching_tests):>8} "
            f"{len(run.failed_tests):>6} {run.wall_seconds:>7.1f}"
        )
        for name in group_node_ids(run.catching_tests):
            lines.append(f"{'':<{width}}    {name}")
        if not run.ok:
            lines.append(f"{'':<{width}}    ! {describe_miss(run)}")
    return "\n".join(lines) + "\n"


def render_matrix_markdown(runs: Sequence[ModeRun]) -> str:
    """Render the matrix as a Markdown table of mode, rule, status, catching tests and run time."""
    lines = [
        "# Fault matrix",
        "",
        "The contract suite run against each sandbox fault and variant "
        "(`python -m contract_support.fault_matrix`).",
        "",
        "| Mode | Kind | Rule | Status | Catching tests | Other failed tests | Seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        others = [test for test in run.failed_tests if test not in run.catching_tests]
        catching = f"{len(run.catching_tests)}: {_test_names(run.catching_tests)}" if run.catching_tests else "0"
        other = f"{len(others)}: {_test_names(others)}" if others else "0"
        lines.append(
            f"| {run.name} | {run.kind} | {run.rule or '-'} | {_status(run)} | {catching} | {other} "
            f"| {run.wall_seconds:.1f} |"
        )
    return "\n".join(lines) + "\n"


def render_faults_doc(known_misses: Mapping[str, str]) -> str:
    """Render docs/faults.md from the sandbox catalogue, the rule catalogue and the known misses.

    `known_misses` maps a fault name to the reason the suite cannot catch it yet.
    """
    lines = [
        "# Sandbox faults and variants",
        "",
        "The embedded sandbox plays each fault below on request (`--sandbox-fault NAME`). A fault",
        "breaks one contract rule, and the contract suite must fail at least one test that names that",
        "rule. A variant is a harmless difference that real servers show too, and the suite must pass",
        "on it. `selftests/test_fault_matrix.py` runs the suite against every row and checks both.",
        "",
        "This page is generated by `contract_support.fault_matrix.render_faults_doc`; a self test fails",
        "when it is out of date. Regenerate it with:",
        "",
        "```",
        "UPDATE_FAULTS_DOC=1 python -m pytest selftests/test_fault_matrix.py -p no:cacheprovider -k faults_doc",
        "```",
        "",
        "## Faults",
        "",
        "| Fault | Rule | Rule statement | What the sandbox does |",
        "|---|---|---|---|",
    ]
    for name in fault_names("fault"):
        fault = FAULTS[name]
        rule = RULES.get(fault.rule)
        statement = rule.statement if rule is not None else "(rule missing from contract_support/rules.py)"
        lines.append(f"| `{name}` | {fault.rule} | {_cell(statement)} | {_cell(fault.description)} |")

    lines += [
        "",
        "## Variants",
        "",
        "| Variant | What the sandbox does |",
        "|---|---|",
    ]
    for name in fault_names("variant"):
        lines.append(f"| `{name}` | {_cell(FAULTS[name].description)} |")

    lines += [
        "",
        "## Network modes",
        "",
        "Misbehaviour of the network or the cluster rather than of the contract. The client's retries",
        "must get through them, and a test that still cannot reach a verdict ends as an",
        "infrastructure error, never as a contract failure (`selftests/test_flaky_network.py`).",
        "",
        "| Mode | What the sandbox does |",
        "|---|---|",
    ]
    for name in fault_names("network"):
        lines.append(f"| `{name}` | {_cell(FAULTS[name].description)} |")

    lines += ["", "## Faults the suite cannot catch yet", ""]
    if known_misses:
        lines += ["| Fault | Rule | Reason |", "|---|---|---|"]
        for name, reason in known_misses.items():
            lines.append(f"| `{name}` | {FAULTS[name].rule} | {_cell(reason)} |")
    else:
        lines.append("None: the suite catches every fault above.")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contract_support.fault_matrix",
        description="Run the contract suite against sandbox faults and variants and print what it caught.",
    )
    parser.add_argument("names", nargs="*", help="modes to run (default: every fault and variant)")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"concurrent suite runs (default: {DEFAULT_WORKERS})"
    )
    parser.add_argument("--work-dir", type=pathlib.Path, help="folder for each run's reports and log (default: a new temporary folder)")
    parser.add_argument(
        "--markdown", type=pathlib.Path, default=None,
        help="where to write the matrix as Markdown (default: "
        f"{MATRIX_MARKDOWN.relative_to(PROJECT_ROOT)} for a run of every mode, nowhere for a run of some)",
    )
    arguments = parser.parse_args(argv)

    if arguments.workers < 1:
        parser.error(f"--workers must be at least 1, got {arguments.workers}")
    names = arguments.names or matrix_modes()
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        parser.error(f"unknown sandbox mode(s) {', '.join(unknown)}; see python -m contract_support.sandbox --list-faults")
    work_dir = arguments.work_dir or pathlib.Path(tempfile.mkdtemp(prefix="fault-matrix-"))

    started = time.perf_counter()
    runs = run_matrix(names, work_dir, workers=arguments.workers)
    elapsed = time.perf_counter() - started

    sys.stdout.write(render_matrix_text(runs))
    print(f"{len(runs)} modes in {elapsed:.1f} s with {arguments.workers} workers; logs in {work_dir}")
    markdown = arguments.markdown or (None if arguments.names else MATRIX_MARKDOWN)
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(render_matrix_markdown(runs), encoding="utf-8")
        print(f"Markdown matrix written to {markdown}")
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
