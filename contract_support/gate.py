"""Release gate over results.json: exit 1 on contract failures or no verdict, 2 on an unreadable file, else 0.

Usage::

    python -m contract_support.gate reports/staging/results.json [--retry RETRY_RESULTS]
    python -m contract_support.gate reports/staging/results.json --list-infrastructure

A test that failed with a schema violation, a semantic violation or a wrong status code is a
contract failure and fails the gate, and so does an error without a failure class, which may
hide one. Infrastructure errors (the target was unreachable or kept throttling) and
configuration errors are reported but do not fail it alone, because such a test reached no
verdict on the contract. A run in which no test passed or failed at all fails it, because it
proves nothing. ``--list-infrastructure`` prints the node IDs of infrastructure
errors, one per line, for a second run, and ``--retry`` reads that run's results.json and lets
its outcomes replace the first run's for those tests.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from contract_support import failures

CONTRACT_CLASSES = frozenset({failures.SCHEMA, failures.SEMANTIC, failures.STATUS})
REPORTED_CLASSES = frozenset({failures.INFRASTRUCTURE, failures.CONFIGURATION})
EXIT_PASSED = 0
EXIT_CONTRACT_FAILURES = 1
EXIT_INVALID_INPUT = 2


def load_tests(path: pathlib.Path) -> list[dict[str, Any]]:
    """Read the ``tests`` list of a results.json file; raises ValueError naming the file when it is invalid."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        tests = document["tests"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: cannot read test results ({type(error).__name__}: {error})") from None
    if not isinstance(tests, list):
        raise ValueError(f"{path}: tests must be a list, not {type(tests).__name__}")
    return tests


def classify(test: Mapping[str, Any]) -> str:
    """Return ``passed``, ``skipped``, ``contract``, ``infrastructure``, ``configuration`` or ``unclassified``."""
    if test.get("outcome") not in ("failed", "error"):
        return "skipped" if test.get("outcome") in ("skipped", "deselected") else "passed"
    failure_class = test.get("failure_class")
    if failure_class in CONTRACT_CLASSES:
        return "contract"
    if failure_class in REPORTED_CLASSES:
        return failure_class
    # NOTE: an error without a failure class (a KeyError in a test, say) may hide a contract
    # failure that no check named, so the gate treats it like one rather than let it pass.
    return "unclassified"


def merge_retry(first: Iterable[Mapping[str, Any]], retry: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Replace the first run's infrastructure errors with the retried outcomes of the same tests."""
    retried = {test["nodeid"]: dict(test, retried=True) for test in retry}
    merged = []
    for test in first:
        if classify(test) == failures.INFRASTRUCTURE and test["nodeid"] in retried:
            merged.append(retried[test["nodeid"]])
        else:
            merged.append(dict(test))
    return merged


def evaluate(tests: list[Mapping[str, Any]]) -> tuple[int, list[str]]:
    """Return the gate's exit code and the summary lines to print."""
    by_class: dict[str, list[Mapping[str, Any]]] = {}
    for test in tests:
        by_class.setdefault(classify(test), []).append(test)

    counts = ", ".join(f"{len(by_class.get(name, []))} {name}" for name in (
        "passed", "skipped", "contract", "unclassified", "infrastructure", "configuration",
    ))
    lines = [f"contract gate: {len(tests)} tests: {counts}"]
    for name in ("contract", "unclassified", "infrastructure", "configuration"):
        for test in by_class.get(name, []):
            message = (test.get("message") or "").splitlines()
            first_line = message[0] if message else ""
            retried = " (after one retry)" if test.get("retried") else ""
            lines.append(f"  {name}{retried}: {test['nodeid']}: {first_line}")

    failing = len(by_class.get("contract", [])) + len(by_class.get("unclassified", []))
    if not by_class.get("passed") and not failing:
        # A run in which no test reached a verdict (none ran, or every one lost the target)
        # proves nothing about the contract, so it must not pass a release.
        lines.append("contract gate: FAILED, no test reached a verdict; check the run's selection, target and log")
        return EXIT_CONTRACT_FAILURES, lines
    if failing:
        lines.append(f"contract gate: FAILED, {failing} tests show contract failures")
        return EXIT_CONTRACT_FAILURES, lines
    if by_class.get("infrastructure") or by_class.get("configuration"):
        lines.append("contract gate: PASSED, but some tests could not reach a verdict; see the lines above")
    else:
        lines.append("contract gate: PASSED")
    return EXIT_PASSED, lines


def _annotate(lines: list[str]) -> list[str]:
    """Turn failure lines into GitHub Actions annotations, which the job page lists on top."""
    annotated = []
    for line in lines:
        if line.startswith(("  contract", "  unclassified")):
            annotated.append("::error::" + line.strip())
        elif line.startswith(("  infrastructure", "  configuration")):
            annotated.append("::warning::" + line.strip())
        else:
            annotated.append(line)
    return annotated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract_support.gate", description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path, help="results.json of the contract run")
    parser.add_argument("--retry", type=pathlib.Path, help="results.json of a second run of the infrastructure errors")
    parser.add_argument(
        "--list-infrastructure", action="store_true",
        help="print the node IDs of tests that ended in an infrastructure error, one per line, and exit 0",
    )
    arguments = parser.parse_args(argv)

    try:
        tests = load_tests(arguments.results)
        if arguments.retry is not None:
            tests = merge_retry(tests, load_tests(arguments.retry))
    except ValueError as error:
        print(f"contract gate: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT

    if arguments.list_infrastructure:
        for test in tests:
            if classify(test) == failures.INFRASTRUCTURE:
                print(test["nodeid"])
        return EXIT_PASSED

    exit_code, lines = evaluate(tests)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        lines = _annotate(lines)
    print("\n".join(lines))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
