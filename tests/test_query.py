"""Query parameters: format, identifier pair, source, account and unknown parameters."""

import pytest

from contract_support.client import OMIT

# The identifierValue of the vendor's sample cURL.
VENDOR_SAMPLE_MOBILE = "919000000001"
# Well-formed values for identifier types that the environment's test data does not cover.
PLAUSIBLE_IDENTIFIER_VALUES = {"mobile": "919000000001", "email": "someone@example.com", "externalId": "EXT-1"}


@pytest.mark.rule("QUERY-FORMAT")
# Near misses such as "JSON" or "MOBILE" are left out: a backend may accept them without harm.
@pytest.mark.parametrize("value", ["xml", "csv", ""], ids=["xml", "csv", "empty"])
def test_unsupported_format_rejected(api, contract, known_ids, value):
    call = api.get_customers(known_ids[:1], params={"format": value})

    contract.error_response(call, [400], "QUERY-FORMAT")


@pytest.mark.smoke
@pytest.mark.rule("QUERY-FORMAT")
def test_format_json_accepted(api, contract, known_ids):
    call = api.get_customers(known_ids[:2], params={"format": "json"})

    contract.envelope(call)


@pytest.mark.rule("QUERY-FORMAT")
def test_format_may_be_omitted(api, contract, known_ids):
    call = api.get_customers(known_ids[:2], params={"format": OMIT})

    contract.envelope(call)


@pytest.mark.rule("QUERY-FORMAT-REPEATED")
def test_repeated_format_json_accepted(api, contract, known_ids):
    call = api.get_customers(known_ids[:2], params=[("format", "json"), ("format", "json")])

    contract.envelope(call)


@pytest.mark.rule("QUERY-FORMAT-REPEATED")
def test_vendor_sample_query_accepted(api, contract, environment, known_ids):
    # The query of the vendor's sample cURL, with the environment's own mobile number if it has one.
    identifier = environment.test_data.identifier
    mobile = identifier.value if identifier.type == "mobile" else VENDOR_SAMPLE_MOBILE
    params = [
        ("format", "json"), ("format", "json"),
        ("identifierName", "mobile"), ("identifierValue", mobile),
        ("source", "WHATSAPP"),
    ]
    call = api.get_customers(known_ids[:2], params=params)

    contract.batch(call, list(known_ids[:2]))


@pytest.mark.rule("QUERY-IDENTIFIER-NAME")
@pytest.mark.parametrize("name", ["phone", "userId", "nickname"])
def test_unsupported_identifier_name_rejected(api, contract, known_ids, name):
    call = api.get_customers(known_ids[:1], params={"identifierName": name, "identifierValue": "919000000001"})

    contract.error_response(call, [400], "QUERY-IDENTIFIER-NAME")


@pytest.mark.rule("QUERY-IDENTIFIER-NAME")
@pytest.mark.parametrize("name", ["mobile", "email", "externalId"])
def test_supported_identifier_name_accepted(api, contract, environment, known_ids, name):
    identifier = environment.test_data.identifier
    value = identifier.value if identifier.type == name else PLAUSIBLE_IDENTIFIER_VALUES[name]
    call = api.get_customers(known_ids[:1], params={"identifierName": name, "identifierValue": value})

    contract.batch(call, list(known_ids[:1]))


@pytest.mark.rule("QUERY-IDENTIFIER-PAIR")
@pytest.mark.parametrize(
    "params",
    [{"identifierName": "mobile"}, {"identifierValue": "919000000001"}],
    ids=["name-without-value", "value-without-name"],
)
def test_identifier_half_pair_rejected(api, contract, environment, known_ids, params):
    call = api.get_customers(known_ids[:1], params=params)

    contract.error_response(call, environment.expectations["identifier_pair_status"], "QUERY-IDENTIFIER-PAIR")


@pytest.mark.rule("QUERY-SOURCE")
@pytest.mark.parametrize("source", ["NOT_A_SOURCE", "instore-typo"])
def test_unsupported_source_rejected(api, contract, environment, known_ids, source):
    call = api.get_customers(known_ids[:1], params={"source": source})

    body = contract.error_response(call, environment.expectations["unknown_source_status"], "QUERY-SOURCE")
    if call.status >= 400:
        codes = [item.get("code") for item in body.get("errors") or []]
        expected_codes = environment.expectations["invalid_source_codes"]
        contract.require(
            set(codes) & set(expected_codes), call, "QUERY-SOURCE", "the error for an unsupported source has the wrong code",
            json_path="$.errors[*].code", value=codes, expected=f"a code in {expected_codes} (expectations.invalid_source_codes)",
        )


@pytest.mark.rule("QUERY-SOURCE")
def test_supported_sources_accepted(api, contract, environment, known_ids):
    for source in environment.supported_sources or [environment.query_defaults.get("source", "INSTORE")]:
        call = api.get_customers(known_ids[:1], params={"source": source, "accountId": "1234"})

        contract.batch(call, list(known_ids[:1]))


@pytest.mark.rule("QUERY-SOURCE")
def test_source_may_be_omitted_unless_required(api, contract, environment, known_ids):
    call = api.get_customers(known_ids[:1], params={"source": OMIT})

    if environment.expectations["source_required"]:
        contract.error_response(call, [400], "QUERY-SOURCE")
    else:
        contract.envelope(call)


@pytest.mark.rule("QUERY-UNKNOWN-PARAMETER")
def test_unknown_query_parameter_ignored(api, contract, known_ids):
    plain = api.get_customers(known_ids[:2])
    extended = api.get_customers(known_ids[:2], params={"unexpectedParameter": "1", "page": "2"})

    plain_body = contract.envelope(plain)
    extended_body = contract.envelope(extended)

    contract.same_answer(
        extended, plain, "QUERY-UNKNOWN-PARAMETER", "an unknown query parameter changed the answer",
        "$", extended_body, plain_body,
    )
