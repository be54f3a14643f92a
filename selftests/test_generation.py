"""Self tests of the request strategies: valid draws satisfy the request schemas, invalid ones do not."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_support import generation, schemas
from contract_support.client import OMIT

MAX_BATCH = 10
REFERENCE_IDS = (400000001, 400000002, 999999001)
SOURCES = ("INSTORE", "WECHAT")
CHECKED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.large_base_example])


def _body_errors(ids) -> list:
    schema = generation.body_schema(MAX_BATCH)
    return list(schemas.validator_for_schema_json(json.dumps(schema, sort_keys=True)).iter_errors(ids))


def _query_errors(case: generation.QueryCase) -> list:
    """Validate the documented parameters of ``case``: one value as a string, a repeated one as a list."""
    values: dict[str, list] = {}
    for name, value in case.sent_pairs():
        if name in generation.QUERY_PARAMETERS:
            values.setdefault(name, []).append(value)
    query = {name: items[0] if len(items) == 1 else items for name, items in values.items()}
    schema = generation.query_schema(SOURCES, source_required=False)
    return list(schemas.validator_for_schema_json(json.dumps(schema, sort_keys=True)).iter_errors(query))


@CHECKED
@given(generation.customer_id_batches(MAX_BATCH, REFERENCE_IDS))
def test_valid_batches_match_body_schema(ids):
    assert _body_errors(ids) == []


@pytest.mark.parametrize("defect", [d for d in generation.BODY_DEFECTS if d != "wrong-content-type"])
@CHECKED
@given(data=st.data())
def test_invalid_bodies_break_body_schema(defect, data):
    case = data.draw(generation.invalid_bodies(defect, MAX_BATCH, REFERENCE_IDS))

    try:
        parsed = json.loads(case.body)
    except ValueError:
        assert defect == "not-json"
        return

    assert _body_errors(parsed), f"{defect} body {case.body!r} is valid against the body schema"


@CHECKED
@given(generation.invalid_bodies("wrong-content-type", MAX_BATCH, REFERENCE_IDS))
def test_wrong_content_type_keeps_valid_body(case):
    assert _body_errors(json.loads(case.body)) == []
    assert case.content_type is OMIT or not case.content_type.startswith("application/json")


@CHECKED
@given(generation.valid_queries(SOURCES, False))
def test_valid_queries_match_query_schema(case):
    assert _query_errors(case) == []
    assert all(value is not OMIT for _, value in case.sent_pairs())


@pytest.mark.parametrize("defect", generation.QUERY_DEFECTS)
@CHECKED
@given(data=st.data())
def test_invalid_queries_break_query_schema(defect, data):
    case = data.draw(generation.invalid_queries(defect, SOURCES, False))

    assert case.rule is not None
    assert _query_errors(case), f"{defect} query {case!r} is valid against the query schema"


def test_unknown_defect_rejected():
    with pytest.raises(ValueError, match="unknown body defect 'typo'"):
        generation.invalid_bodies("typo", MAX_BATCH, REFERENCE_IDS)
    with pytest.raises(ValueError, match="unknown query defect 'typo'"):
        generation.invalid_queries("typo", SOURCES, False)
