"""Per-entity semantics: one result per ID, success flags, unknown and duplicate IDs."""

import pytest

from contract_support.checks import entity_id, result_for


@pytest.mark.smoke
@pytest.mark.rule("RESULT-COUNT")
def test_one_result_per_requested_id(api, contract, known_ids, unknown_ids):
    ids = [*known_ids, *unknown_ids]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)


@pytest.mark.rule("RESULT-COUNT")
def test_full_batch_has_one_result_per_id(api, contract, full_batch):
    ids = full_batch
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)


@pytest.mark.rule("RESULT-IDENTITY")
def test_results_answer_requested_ids(api, contract, known_ids, unknown_ids):
    ids = [*known_ids[:4], unknown_ids[0]]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)
    contract.result_identity(call, body, ids)
    for requested in ids:
        assert result_for(body, requested) is not None, (
            f"no result in $.data has entity.id {requested}\n{contract.describe(call)}"
        )


@pytest.mark.rule("RESULT-ORDER")
def test_results_follow_request_order(api, contract, environment, known_ids, unknown_ids):
    if environment.expectations["result_order"] != "request":
        pytest.skip("expectations.result_order is 'any' for this environment")
    ids = [known_ids[2], unknown_ids[0], known_ids[0], known_ids[1]]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    returned = [entity_id(result) for result in body["data"]]
    assert returned == ids, f"$.data[*].entity.id is {returned}, expected {ids}\n{contract.describe(call)}"


@pytest.mark.smoke
@pytest.mark.rule("RESULT-SUCCESS-FLAG")
def test_success_flag_matches_errors_and_entity(api, contract, environment, known_ids, unknown_ids):
    ids = [*known_ids, *unknown_ids, *environment.test_data.deleted_customer_ids]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.success_flags(call, body)


@pytest.mark.rule("RESULT-SUCCESS-FLAG")
def test_known_ids_succeed_without_errors(api, contract, known_ids):
    call = api.get_customers(known_ids)

    body = contract.envelope(call)

    for index, result in enumerate(body["data"]):
        assert result["success"] is True, f"$.data[{index}].success is {result['success']!r}\n{contract.describe(call)}"
        assert not result.get("errors"), f"$.data[{index}].errors is {result.get('errors')!r}\n{contract.describe(call)}"


@pytest.mark.rule("RESULT-UNKNOWN-ID")
def test_unknown_id_fails_with_not_found_error(api, contract, unknown_ids):
    ids = list(unknown_ids)
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)
    contract.unknown_ids_fail(call, body, ids)
    for index, result in enumerate(body["data"]):
        assert result["success"] is False, f"$.data[{index}].success is {result['success']!r}\n{contract.describe(call)}"


@pytest.mark.rule("RESULT-UNKNOWN-ID", "RESULT-SUCCESS-FLAG")
def test_deleted_customer_fails_with_error(api, contract, environment):
    deleted = list(environment.test_data.deleted_customer_ids)
    if not deleted:
        pytest.skip("test_data.deleted_customer_ids is empty for this environment")
    call = api.get_customers(deleted)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, deleted)
    for index, result in enumerate(body["data"]):
        assert result["success"] is False, f"$.data[{index}].success is {result['success']!r}\n{contract.describe(call)}"
        assert result.get("errors"), f"$.data[{index}].errors is {result.get('errors')!r}\n{contract.describe(call)}"


@pytest.mark.rule("RESULT-ISOLATION")
def test_unknown_ids_do_not_spoil_known_ones(api, contract, known_ids, unknown_ids):
    alone = api.get_customers(known_ids[:3])
    mixed_ids = [unknown_ids[0], known_ids[0], unknown_ids[1 % len(unknown_ids)], known_ids[1], known_ids[2]]
    mixed = api.get_customers(mixed_ids)

    alone_body = contract.envelope(alone)
    mixed_body = contract.batch(mixed, mixed_ids, unknown_ids)

    for customer_id in known_ids[:3]:
        expected = result_for(alone_body, customer_id)
        actual = result_for(mixed_body, customer_id)
        assert actual == expected, (
            f"result for {customer_id} changes when unknown IDs join the batch\n"
            f"alone: {expected!r}\nmixed: {actual!r}\n{contract.describe(mixed)}"
        )


@pytest.mark.rule("RESULT-DUPLICATES")
def test_duplicate_ids_answered_per_occurrence(api, contract, environment, known_ids):
    ids = [known_ids[0], known_ids[1], known_ids[0], known_ids[0]]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)
    if environment.expectations["duplicate_ids"] == "each":
        answers = [result for result in body["data"] if entity_id(result) == known_ids[0]]
        assert len(answers) == 3, f"{known_ids[0]} answered {len(answers)} times, expected 3\n{contract.describe(call)}"
        assert all(answer == answers[0] for answer in answers), (
            f"the answers for {known_ids[0]} differ between occurrences\n{contract.describe(call)}"
        )


@pytest.mark.rule("RESULT-RIGHT-CUSTOMER")
def test_identifier_belongs_to_its_customer(api, contract, environment):
    identifier = environment.test_data.identifier
    call = api.get_customers([identifier.customer_id])

    body = contract.envelope(call)

    result = result_for(body, identifier.customer_id)
    assert result is not None, f"no result for {identifier.customer_id}\n{contract.describe(call)}"
    pairs = [
        (item.get("type"), item.get("value"))
        for profile in result["entity"].get("profiles") or []
        for item in profile.get("identifiers") or []
    ]
    assert (identifier.type, identifier.value) in pairs, (
        f"$.data[0].entity.profiles[*].identifiers is {pairs}, expected to contain "
        f"{identifier.type}={identifier.value!r} of customer {identifier.customer_id}\n{contract.describe(call)}"
    )


@pytest.mark.smoke
@pytest.mark.rule("ENTITY-USERID")
def test_profile_user_id_equals_entity_id(api, contract, known_ids):
    call = api.get_customers(known_ids)

    body = contract.envelope(call)

    contract.user_ids(call, body)


@pytest.mark.rule("DATA-EMAIL")
def test_email_identifiers_hold_addresses(api, contract, scan_ids):
    call = api.get_customers(scan_ids)

    body = contract.envelope(call)

    contract.email_values(call, body)


@pytest.mark.rule("DATA-PURCHASES")
def test_lifetime_purchases_not_negative(api, contract, scan_ids):
    call = api.get_customers(scan_ids)

    body = contract.envelope(call)

    contract.purchases(call, body)
