"""Refused requests: malformed bodies, empty and oversized batches, content types, paths.

The page documents 400 for invalid requests and 404 for unknown resources. It is silent on
the empty list, the batch limit and the content type; their expected statuses come from the
environment's ``expectations``.
"""

import json

import pytest

from contract_support.client import OMIT
from contract_support.failures import STATUS

MALFORMED_BODIES = {
    "object": '{"ids": [400000001]}',
    "strings": '["400000001", "400000002"]',
    "mixed-string": '[400000001, "abc"]',
    "floats": "[400000001.5]",
    "nulls": "[null]",
    "null-body": "null",
    "booleans": "[true, false]",
    "nested-array": "[[400000001]]",
    "negative": "[-400000001]",
    "zero": "[0]",
    "beyond-64-bits": "[92233720368547758070]",
    "not-json": "400000001, 400000002",
    "truncated-json": "[400000001,",
    "bare-number": "400000001",
    "bare-string": '"400000001"',
    "empty-body": "",
}


@pytest.mark.rule("REQUEST-MALFORMED")
@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_body_rejected_with_400(api, contract, environment, body):
    call = api.get_customers(body=body)

    contract.status(call, environment.expectations["malformed_body_status"], "REQUEST-MALFORMED")
    contract.json_body(call, "REQUEST-MALFORMED")


@pytest.mark.rule("REQUEST-MALFORMED")
def test_id_with_decimal_point_rejected(api, contract, environment):
    # JSON Schema counts 400000001.0 as an integer, so the body schema cannot express this rule.
    # The expectation states whether the target rejects it like the other non-integers.
    call = api.get_customers(body="[400000001.0]")

    contract.status(call, environment.expectations["decimal_point_id_status"], "REQUEST-MALFORMED")


@pytest.mark.rule("REQUEST-EMPTY")
def test_empty_list_rejected(api, contract, environment):
    call = api.get_customers([])

    contract.error_response(call, environment.expectations["empty_list_status"], "REQUEST-EMPTY")


@pytest.mark.rule("REQUEST-BATCH-LIMIT")
def test_batch_over_limit_rejected(api, contract, environment, full_batch):
    ids = [*full_batch, full_batch[0]]
    call = api.get_customers(ids)

    contract.error_response(call, environment.expectations["over_batch_status"], "REQUEST-BATCH-LIMIT")


@pytest.mark.rule("REQUEST-BATCH-LIMIT")
def test_batch_at_limit_accepted(api, contract, full_batch):
    call = api.get_customers(full_batch)

    contract.envelope(call)


@pytest.mark.rule("REQUEST-CONTENT-TYPE")
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", OMIT], ids=["text-plain", "form", "missing"]
)
def test_body_not_labelled_json_rejected(api, contract, environment, known_ids, content_type):
    call = api.get_customers(body=json.dumps(list(known_ids[:2])), headers={"Content-Type": content_type})

    contract.status(call, environment.expectations["wrong_content_type_status"], "REQUEST-CONTENT-TYPE")


@pytest.mark.rule("REQUEST-CONTENT-TYPE")
def test_json_with_charset_accepted(api, contract, known_ids):
    call = api.get_customers(
        body=json.dumps(list(known_ids[:2])), headers={"Content-Type": "application/json; charset=utf-8"}
    )

    contract.envelope(call)


@pytest.mark.rule("ERROR-BODY")
@pytest.mark.parametrize("body", ["[", "{}", '["x"]'], ids=["not-json", "object", "string-id"])
def test_refused_request_has_json_error_items(api, contract, body):
    call = api.get_customers(body=body)

    contract.status(call, range(400, 500), "ERROR-BODY")
    contract.error_body(call)


@pytest.mark.rule("REQUEST-MALFORMED", "ERROR-BODY")
def test_error_message_names_offending_value(api, contract, environment):
    call = api.get_customers(body='[400000001, "abc"]')

    contract.status(call, environment.expectations["malformed_body_status"], "REQUEST-MALFORMED")
    body = contract.json_body(call, "ERROR-BODY")
    messages = " ".join(str(item.get("message", "")) for item in body.get("errors") or [])
    contract.require(
        messages.strip(), call, "ERROR-BODY", "the error items carry no message",
        json_path="$.errors[*].message", value=body.get("errors"), expected="a message naming the offending value",
    )


@pytest.mark.rule("PATH-UNKNOWN")
@pytest.mark.parametrize("path", ["/v2/bulk/getCustomer", "/v2/bulk/unknown", "/v2/bulk/getCustomers/extra"])
def test_unknown_path_gets_404(api, contract, environment, known_ids, path):
    call = api.get_customers(known_ids[:1], path=path)

    contract.error_response(call, environment.expectations["unknown_path_status"], "PATH-UNKNOWN")


@pytest.mark.rule("ERROR-BODY")
def test_wrong_method_refused_with_json(api, contract, environment):
    call = api.get_customers(method="GET")

    contract.error_response(call, environment.expectations["wrong_method_status"], "ERROR-BODY")


@pytest.mark.rule("REQUEST-MALFORMED")
def test_client_errors_never_5xx(api, contract):
    for body in [*MALFORMED_BODIES.values(), "[400000001.0]"]:
        call = api.get_customers(body=body)

        contract.require(
            call.status < 500, call, "REQUEST-MALFORMED", "a malformed body caused a server error",
            failure_class=STATUS, json_path="(status)", value=call.status, expected="a 4xx status",
        )
