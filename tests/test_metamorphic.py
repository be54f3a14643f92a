"""Metamorphic checks: relations between answers that hold for any correct server.

Each test sends two related requests and compares the answers, with no knowledge of the
data behind them. All of them assume that a repeated read gives the same answer
(META-IDEMPOTENT), so a server that breaks it fails the others too; the idempotence test
names the cause. Hypothesis draws the IDs from the environment's known and unknown IDs.
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_support import generation
from contract_support.checks import entity_id
from contract_support.failures import SEMANTIC


def _json(value) -> str:
    return json.dumps(value, sort_keys=True)


def _distinct_ids(pool, min_size, max_size):
    return st.lists(st.sampled_from(pool), min_size=min_size, max_size=min(max_size, len(pool)), unique=True)


def _distinct_batches(environment, reference_ids, min_size):
    """Draw valid bodies of distinct IDs, mixing reference IDs with random ones."""
    batches = generation.customer_id_batches(environment.limits.max_batch, reference_ids)
    return batches.map(lambda ids: list(dict.fromkeys(ids))).filter(lambda ids: len(ids) >= min_size)


@pytest.fixture(scope="session")
def reference_ids(known_ids, unknown_ids):
    return (*known_ids, *unknown_ids)


@pytest.mark.rule("META-PERMUTATION")
@given(data=st.data())
def test_permuted_ids_permute_results(api, contract, environment, reference_ids, data):
    ids = data.draw(_distinct_batches(environment, reference_ids, 2), label="ids")
    permuted = data.draw(st.permutations(ids), label="permuted ids")

    original_call = api.get_customers(ids)
    permuted_call = api.get_customers(permuted)

    original = contract.envelope(original_call)
    result = contract.envelope(permuted_call)
    rest = {key: value for key, value in result.items() if key != "data"}
    original_rest = {key: value for key, value in original.items() if key != "data"}
    if rest != original_rest:
        raise contract.differing_answer(
            permuted_call, original_call, "META-PERMUTATION",
            "permuting the IDs changed the envelope outside data", "$", rest, original_rest,
        )

    if environment.expectations["result_order"] == "request":
        for index, customer_id in enumerate(permuted):
            expected = original["data"][ids.index(customer_id)]
            if result["data"][index] != expected:
                raise contract.differing_answer(
                    permuted_call, original_call, "META-PERMUTATION",
                    f"the result at position {index} is not the original result for ID {customer_id}",
                    f"$.data[{index}]", result["data"][index], expected,
                )
    elif sorted(map(_json, result["data"])) != sorted(map(_json, original["data"])):
        raise contract.differing_answer(
            permuted_call, original_call, "META-PERMUTATION",
            "permuting the IDs changed the set of results", "$.data",
            sorted(map(_json, result["data"])), sorted(map(_json, original["data"])),
        )


@pytest.mark.rule("META-BATCH-INDEPENDENCE")
@given(data=st.data())
def test_result_same_alone_and_in_batch(api, contract, environment, reference_ids, data):
    ids = data.draw(_distinct_batches(environment, reference_ids, 2), label="batch")
    customer_id = data.draw(st.sampled_from(ids), label="compared ID")

    alone_call = api.get_customers([customer_id])
    batch_call = api.get_customers(ids)

    alone = contract.envelope(alone_call)
    batch = contract.envelope(batch_call)
    expected = alone["data"][0]
    answered = contract.answered_ids(batch, ids)
    actual = [(index, batch["data"][index]) for index, answer in enumerate(answered) if answer == customer_id]
    if not actual:
        raise contract.differing_answer(
            batch_call, alone_call, "META-BATCH-INDEPENDENCE",
            f"the batch has no result for ID {customer_id}", "$.data[*].entity.id", answered, f"a result for {customer_id}",
        )
    index, result = actual[0]
    if result != expected:
        raise contract.differing_answer(
            batch_call, alone_call, "META-BATCH-INDEPENDENCE",
            f"the result for ID {customer_id} differs between the batch and the request of that ID alone",
            f"$.data[{index}]", result, expected,
        )


@pytest.mark.rule("RESULT-ISOLATION")
@given(data=st.data())
def test_unknown_ids_leave_known_results(api, contract, environment, known_ids, unknown_ids, data):
    max_batch = environment.limits.max_batch
    known = data.draw(_distinct_ids(known_ids, 1, max_batch - 1), label="known IDs")
    unknown = data.draw(
        st.lists(st.sampled_from(unknown_ids), min_size=1, max_size=max_batch - len(known)), label="unknown IDs"
    )
    mixed = data.draw(st.permutations([*known, *unknown]), label="mixed IDs")

    known_call = api.get_customers(known)
    mixed_call = api.get_customers(mixed)

    alone = contract.envelope(known_call)
    # The comparison comes before the batch checks, so a spoiled known result is reported as
    # the isolation failure it is rather than as whatever rule the spoiled result breaks.
    together = contract.envelope(mixed_call)
    contract.one_result_per_id(mixed_call, together, mixed)
    for customer_id in known:
        expected = next(result for result in alone["data"] if entity_id(result) == customer_id)
        index, result = next(
            (index, result) for index, result in enumerate(together["data"]) if entity_id(result) == customer_id
        )
        if result != expected:
            raise contract.differing_answer(
                mixed_call, known_call, "RESULT-ISOLATION",
                f"the result for known ID {customer_id} changes when unknown IDs join the batch",
                f"$.data[{index}]", result, expected,
            )
    contract.batch(mixed_call, mixed, unknown_ids)


@pytest.mark.rule("RESULT-DUPLICATES")
@given(data=st.data())
def test_duplicated_id_answered_alike(api, contract, environment, reference_ids, data):
    max_batch = environment.limits.max_batch
    repeated = data.draw(st.sampled_from(reference_ids), label="repeated ID")
    pool = [customer_id for customer_id in reference_ids if customer_id != repeated]
    others = data.draw(_distinct_ids(pool, 0, max_batch - 2), label="other IDs")
    copies = data.draw(st.integers(min_value=2, max_value=max_batch - len(others)), label="copies")
    ids = data.draw(st.permutations([*others, *[repeated] * copies]), label="ids")

    call = api.get_customers(ids)

    body = contract.envelope(call)
    answered = contract.answered_ids(body, ids)
    answers = [(index, body["data"][index]) for index, answer in enumerate(answered) if answer == repeated]
    expected_count = copies if environment.expectations["duplicate_ids"] == "each" else 1
    if len(answers) != expected_count:
        raise contract.violation(
            call, "RESULT-DUPLICATES", f"ID {repeated}, sent {copies} times, is answered {len(answers)} times",
            failure_class=SEMANTIC, json_path="$.data[*].entity.id", value=answered,
            expected=f"{expected_count} results for {repeated} (expectations.duplicate_ids: "
            f"{environment.expectations['duplicate_ids']})",
        )
    first_index, first = answers[0]
    for index, result in answers[1:]:
        if result != first:
            raise contract.violation(
                call, "RESULT-DUPLICATES", f"the answers for repeated ID {repeated} differ",
                failure_class=SEMANTIC, json_path=f"$.data[{index}]", value=result,
                expected=f"the same as $.data[{first_index}]: {first!r}",
            )


@pytest.mark.rule("META-IDEMPOTENT")
@given(data=st.data())
def test_repeated_request_same_answer(api, contract, environment, reference_ids, data):
    ids = data.draw(_distinct_batches(environment, reference_ids, 1), label="ids")

    first_call = api.get_customers(ids)
    second_call = api.get_customers(ids)

    first = contract.envelope(first_call)
    second = contract.envelope(second_call)
    if second != first:
        raise contract.differing_answer(
            second_call, first_call, "META-IDEMPOTENT", "the same request twice in a row got different answers",
            "$", second, first,
        )
