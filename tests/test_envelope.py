"""Envelope, content type and JSON Schemas of responses to valid requests."""

import pytest

pytestmark = pytest.mark.smoke


@pytest.mark.rule("ENVELOPE-SCHEMA")
def test_known_batch_matches_envelope_schema(api, contract, known_ids):
    call = api.get_customers(known_ids)

    contract.envelope(call)


@pytest.mark.rule("ENVELOPE-SCHEMA", "ENTITY-SCHEMA")
def test_mixed_batch_matches_schemas(api, contract, known_ids, unknown_ids, environment):
    ids = [known_ids[0], unknown_ids[0], *environment.test_data.deleted_customer_ids[:1], known_ids[1]]
    call = api.get_customers(ids)

    contract.envelope(call)


@pytest.mark.rule("ENTITY-SCHEMA")
def test_known_results_carry_full_entity(api, contract, known_ids):
    call = api.get_customers(known_ids)

    body = contract.envelope(call)

    for index, result in enumerate(body["data"]):
        entity = result.get("entity")
        contract.require(
            isinstance(entity, dict), call, "ENTITY-SCHEMA", "a known customer's result has no entity",
            json_path=f"$.data[{index}].entity", value=entity, expected="an entity object",
        )
        contract.require(
            entity.get("profiles"), call, "ENTITY-SCHEMA", "a known customer's entity has no profile",
            json_path=f"$.data[{index}].entity.profiles", value=entity.get("profiles"),
            expected="at least one profile",
        )


@pytest.mark.rule("ENVELOPE-CONTENT-TYPE")
def test_success_response_is_labelled_json(api, contract, known_ids):
    call = api.get_customers(known_ids[:2])

    contract.status(call, [200], "ENVELOPE-CONTENT-TYPE")
    contract.json_content_type(call)
    contract.json_body(call, "ENVELOPE-CONTENT-TYPE")


@pytest.mark.rule("ENVELOPE-CONTENT-TYPE")
def test_error_response_is_labelled_json(api, contract):
    call = api.get_customers(body="not json")

    contract.json_content_type(call)


@pytest.mark.rule("ENVELOPE-NO-ERRORS")
def test_success_envelope_has_no_top_level_errors(api, contract, known_ids, unknown_ids):
    call = api.get_customers([*known_ids[:2], unknown_ids[0]])

    body = contract.envelope(call)

    contract.no_envelope_errors(call, body)


@pytest.mark.rule("ENTITY-COMPLETE")
def test_found_customers_have_complete_entities(api, contract, scan_ids):
    call = api.get_customers(scan_ids)

    body = contract.envelope(call)

    contract.complete_entities(call, body)
