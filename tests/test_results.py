"""Per-entity semantics: one result per ID, success flags, unknown and duplicate IDs."""

import pytest

from contract_support.checks import entity_id, result_for


@pytest.mark.smoke
@pytest.mark.rule("RESULT-COUNT")
def test_one_result_per_requested_id(api, contract, environment, known_ids, unknown_ids):
    ids = [*known_ids, *unknown_ids][: environment.limits.max_batch]
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
    answered = contract.answered_ids(body, ids)
    for requested in ids:
        contract.require(
            requested in answered, call, "RESULT-IDENTITY", "a requested ID has no result",
            json_path="$.data[*].entity.id", value=answered, expected=f"a result for {requested}",
        )


@pytest.mark.rule("RESULT-ORDER")
def test_results_follow_request_order(api, contract, environment, known_ids, unknown_ids):
    if environment.expectations["result_order"] != "request":
        pytest.skip("expectations.result_order is 'any' for this environment")
    ids = [known_ids[-1], unknown_ids[0], *known_ids[:-1][:2]]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)
    contract.result_identity(call, body, ids)


@pytest.mark.smoke
@pytest.mark.rule("RESULT-SUCCESS-FLAG")
def test_success_flag_matches_errors_and_entity(api, contract, environment, known_ids, unknown_ids):
    ids = [*known_ids, *unknown_ids, *environment.test_data.deleted_customer_ids][: environment.limits.max_batch]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.success_flags(call, body)


@pytest.mark.rule("RESULT-SUCCESS-FLAG")
def test_known_ids_succeed_without_errors(api, contract, known_ids):
    call = api.get_customers(known_ids)

    body = contract.envelope(call)

    for index, result in enumerate(body["data"]):
        contract.require(
            result["success"] is True, call, "RESULT-SUCCESS-FLAG", "a known customer is reported as not found",
            json_path=f"$.data[{index}].success", value=result["success"], expected="true",
        )
        contract.require(
            not result.get("errors"), call, "RESULT-SUCCESS-FLAG", "a known customer's result carries errors",
            json_path=f"$.data[{index}].errors", value=result.get("errors"), expected="no error items",
        )


@pytest.mark.rule("RESULT-UNKNOWN-ID")
def test_unknown_id_fails_with_not_found_error(api, contract, unknown_ids):
    ids = list(unknown_ids)
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)
    contract.unknown_ids_fail(call, body, ids, ids)
    for index, result in enumerate(body["data"]):
        contract.require(
            result["success"] is False, call, "RESULT-UNKNOWN-ID", "an unknown customer ID is reported as found",
            json_path=f"$.data[{index}].success", value=result["success"], expected="false",
        )


@pytest.mark.rule("RESULT-UNKNOWN-ID", "RESULT-SUCCESS-FLAG", "RESULT-FAILED-REDUCED")
def test_deleted_customer_fails_with_error(api, contract, environment):
    deleted = list(environment.test_data.deleted_customer_ids)
    if not deleted:
        pytest.skip("test_data.deleted_customer_ids is empty for this environment")
    call = api.get_customers(deleted)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, deleted)
    for index, result in enumerate(body["data"]):
        contract.require(
            result["success"] is False, call, "RESULT-SUCCESS-FLAG", "a deleted customer is reported as found",
            json_path=f"$.data[{index}].success", value=result["success"], expected="false",
        )
        contract.require(
            result.get("errors"), call, "RESULT-UNKNOWN-ID", "a deleted customer's result has no error item",
            json_path=f"$.data[{index}].errors", value=result.get("errors"), expected="at least one error item",
        )
    contract.failed_results_reduced(call, body)


@pytest.mark.rule("RESULT-ISOLATION")
def test_unknown_ids_do_not_spoil_known_ones(api, contract, known_ids, unknown_ids):
    known = list(known_ids[:3])
    alone = api.get_customers(known)
    mixed_ids = [unknown_ids[0], known[0], unknown_ids[1 % len(unknown_ids)], *known[1:]]
    mixed = api.get_customers(mixed_ids)

    alone_body = contract.envelope(alone)
    mixed_body = contract.envelope(mixed)

    for customer_id in known:
        contract.same_answer(
            mixed, alone, "RESULT-ISOLATION", f"the result for {customer_id} changes when unknown IDs join the batch",
            f"$.data[{mixed_ids.index(customer_id)}]",
            result_for(mixed_body, customer_id), result_for(alone_body, customer_id),
        )
    contract.batch(mixed, mixed_ids, unknown_ids)


@pytest.mark.rule("RESULT-DUPLICATES")
def test_duplicate_ids_answered_per_occurrence(api, contract, environment, known_ids):
    ids = [known_ids[0], known_ids[1], known_ids[0], known_ids[0]]
    call = api.get_customers(ids)

    body = contract.envelope(call)

    contract.one_result_per_id(call, body, ids)
    if environment.expectations["duplicate_ids"] == "each":
        positions = [index for index, result in enumerate(body["data"]) if entity_id(result) == known_ids[0]]
        contract.require(
            len(positions) == 3, call, "RESULT-DUPLICATES", f"ID {known_ids[0]}, requested 3 times, is not answered 3 times",
            json_path="$.data[*].entity.id", value=[entity_id(result) for result in body["data"]],
            expected=f"{known_ids[0]} at 3 positions",
        )
        for index in positions[1:]:
            contract.same_answer(
                call, call, "RESULT-DUPLICATES", f"the answers for the repeated ID {known_ids[0]} differ",
                f"$.data[{index}]", body["data"][index], body["data"][positions[0]],
            )


@pytest.mark.rule("RESULT-RIGHT-CUSTOMER")
def test_identifier_belongs_to_its_customer(api, contract, environment):
    identifier = environment.test_data.identifier
    call = api.get_customers([identifier.customer_id])

    body = contract.envelope(call)

    result = result_for(body, identifier.customer_id)
    contract.require(
        result is not None, call, "RESULT-IDENTITY", "the requested customer has no result",
        json_path="$.data[*].entity.id", value=[entity_id(item) for item in body["data"]],
        expected=f"a result for {identifier.customer_id}",
    )
    pairs = [
        (item.get("type"), item.get("value"))
        for profile in result["entity"].get("profiles") or []
        for item in profile.get("identifiers") or []
    ]
    contract.require(
        (identifier.type, identifier.value) in pairs, call, "RESULT-RIGHT-CUSTOMER",
        "the entity lacks the identifier that belongs to the requested customer",
        json_path="$.data[0].entity.profiles[*].identifiers", value=[f"{kind}={value}" for kind, value in pairs],
        expected=f"{identifier.type}={identifier.value} (customer {identifier.customer_id}, test_data.identifier)",
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
