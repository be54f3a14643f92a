"""Self tests: each generated and metamorphic check fails when the sandbox breaks its rule.

For each fault the contract suite runs in a subprocess, limited to the generated test that
guards the rule, against the embedded sandbox playing that fault. The test then reads
``results.json`` and expects a failure that names the rule. ``CI=1`` makes Hypothesis
derandomize, so the runs are repeatable and leave the example database alone. Two runs go
in parallel, one per core of the CI machine.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATED = "tests/test_generated.py"
METAMORPHIC = "tests/test_metamorphic.py"
PARALLEL_RUNS = 2
RUN_TIMEOUT_SECONDS = 120

# fault -> (test node ID that must catch it, rule its failure must name)
FAULT_CATCHERS = {
    "batch-dependent": (f"{METAMORPHIC}::test_result_same_alone_and_in_batch", "META-BATCH-INDEPENDENCE"),
    "order-reversed": (f"{METAMORPHIC}::test_permuted_ids_permute_results", "META-PERMUTATION"),
    "not-idempotent": (f"{METAMORPHIC}::test_repeated_request_same_answer", "META-IDEMPOTENT"),
    "duplicates-collapsed": (f"{METAMORPHIC}::test_duplicated_id_answered_alike", "RESULT-DUPLICATES"),
    "unknown-spoils-known": (f"{METAMORPHIC}::test_unknown_ids_leave_known_results", "RESULT-ISOLATION"),
    "unknown-dropped": (f"{GENERATED}::test_generated_batch_follows_contract", "RESULT-COUNT"),
    "id-as-string": (f"{GENERATED}::test_generated_batch_follows_contract", "ENTITY-SCHEMA"),
    "malformed-500": (f"{GENERATED}::test_generated_invalid_body_rejected[not-json]", "REQUEST-MALFORMED"),
    "object-body-200": (f"{GENERATED}::test_generated_invalid_body_rejected[object]", "REQUEST-MALFORMED"),
    "empty-list-200": (f"{GENERATED}::test_generated_invalid_body_rejected[empty]", "REQUEST-EMPTY"),
    "over-batch-accepted": (f"{GENERATED}::test_generated_invalid_body_rejected[oversized]", "REQUEST-BATCH-LIMIT"),
    "wrong-content-type-accepted": (
        f"{GENERATED}::test_generated_invalid_body_rejected[wrong-content-type]", "REQUEST-CONTENT-TYPE"
    ),
    "format-xml-accepted": (f"{GENERATED}::test_generated_invalid_query_rejected[format]", "QUERY-FORMAT"),
    "identifier-name-accepted": (
        f"{GENERATED}::test_generated_invalid_query_rejected[identifier-name]", "QUERY-IDENTIFIER-NAME"
    ),
    "unknown-source-accepted": (f"{GENERATED}::test_generated_invalid_query_rejected[source]", "QUERY-SOURCE"),
    "format-repeated-rejected": (f"{GENERATED}::test_generated_valid_query_accepted", "QUERY-FORMAT-REPEATED"),
}


def run_suite(fault: str, node_id: str, reports_dir: pathlib.Path) -> dict:
    """Run ``node_id`` against the sandbox playing ``fault`` and return its results.json."""
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node_id,
        "--sandbox-fault", fault, f"--reports-dir={reports_dir}",
    ]
    environment = {**os.environ, "CI": "1", "CONTRACT_ENV": "sandbox"}
    completed = subprocess.run(
        command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )
    results_path = reports_dir / "results.json"
    assert results_path.is_file(), (
        f"no results.json after {' '.join(command)} (exit {completed.returncode}):\n{completed.stdout[-3000:]}"
    )
    return json.loads(results_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fault_results(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("fault-runs")
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        futures = {
            fault: pool.submit(run_suite, fault, node_id, root / fault)
            for fault, (node_id, _) in FAULT_CATCHERS.items()
        }
        return {fault: future.result() for fault, future in futures.items()}


@pytest.mark.parametrize("fault", FAULT_CATCHERS)
def test_fault_caught_by_generated_check(fault_results, fault):
    node_id, rule = FAULT_CATCHERS[fault]
    tests = fault_results[fault]["tests"]

    failed = [test for test in tests if test["outcome"] == "failed"]

    assert tests, f"no test ran for {node_id}"
    assert failed, f"fault {fault!r} went unnoticed: {[(test['nodeid'], test['outcome']) for test in tests]}"
    assert failed[0]["violated_rule"] == rule, (
        f"fault {fault!r} failed {failed[0]['nodeid']} on rule {failed[0]['violated_rule']!r}, expected {rule!r}:\n"
        f"{failed[0]['message']}"
    )
    assert "Reproduce: curl " in failed[0]["message"], failed[0]["message"]


def test_batch_dependence_shrinks_to_two_ids(fault_results):
    """The reported call is the shrunk example's: the smallest batch that shows the fault."""
    message = fault_results["batch-dependent"]["tests"][0]["message"]

    reproduced_body = re.search(r"Reproduce: curl .* --data-raw '(\[[^']*\])'", message)

    assert reproduced_body is not None, message
    assert len(json.loads(reproduced_body.group(1))) == 2, message
