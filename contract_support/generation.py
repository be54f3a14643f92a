"""Hypothesis strategies for Get Customers Bulk requests, built from ``schemas/request/``.

Valid bodies and queries come from the request schemas through hypothesis-jsonschema,
narrowed at run time to one environment: its largest batch, its supported sources and its
reference customer IDs. Invalid bodies and queries break one rule of those schemas at a
time, and each case names the contract rule and the ``expectations`` key of the status
that the target must return.

Strategies take hashable arguments and are cached, because hypothesis-jsonschema spends
far more time building a strategy than drawing from it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from contract_support import schemas
from contract_support.client import OMIT

BODY_SCHEMA = "request/body.schema.json"
QUERY_SCHEMA = "request/query.schema.json"
QUERY_PARAMETERS = ("format", "identifierName", "identifierValue", "source", "accountId")
# Signed 64-bit integers: the body schema's largest customer ID is 2**63 - 1.
INT64_MAX = 2**63 - 1

# Invalid values that a real client is likely to send, drawn beside random ones.
COMMON_WRONG_FORMATS = ("xml", "csv", "JSON", "html", "")
COMMON_WRONG_IDENTIFIER_NAMES = ("phone", "cardnumber", "MOBILE", "userId", "Email")
COMMON_WRONG_SOURCES = ("NOT_A_SOURCE", "instore-typo", "POS")
WRONG_CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data")

BODY_DEFECTS = (
    "object", "scalar", "invalid-item", "empty", "oversized", "not-json", "wrong-content-type",
)
QUERY_DEFECTS = ("format", "identifier-name", "identifier-half-pair", "source")


@dataclasses.dataclass(frozen=True)
class InvalidBody:
    """A request body (and Content-Type) that breaks the body schema in one way."""

    defect: str
    body: bytes
    content_type: Any
    rule: str
    status_expectation: str


@dataclasses.dataclass(frozen=True)
class QueryCase:
    """Query parameters as (name, value) pairs, and for an invalid query the rule it breaks.

    A value of ``OMIT`` drops the environment's default for that parameter. A
    ``status_expectation`` of None means the documented 400.
    """

    pairs: tuple[tuple[str, Any], ...]
    rule: str | None = None
    status_expectation: str | None = None

    def sent_pairs(self) -> list[tuple[str, Any]]:
        return [(name, value) for name, value in self.pairs if value is not OMIT]

    def __repr__(self) -> str:
        sent = self.sent_pairs()
        omitted = [name for name, value in self.pairs if value is OMIT]
        return f"QueryCase(sent={sent!r}, omitted={omitted!r}, rule={self.rule!r})"


# Valid bodies.


def body_schema(max_batch: int, reference_ids: Sequence[int] = ()) -> dict[str, Any]:
    """Return the body schema with ``maxItems`` set, and items that may also be ``reference_ids``.

    Every reference ID already satisfies the item schema, so the result accepts a subset of
    the documented bodies.
    """
    schema = schemas.load_schema(BODY_SCHEMA)
    schema["maxItems"] = max_batch
    if reference_ids:
        schema["items"] = {"anyOf": [{"enum": sorted(set(reference_ids))}, schema["items"]]}
    return schema


@functools.cache
def customer_id_batches(max_batch: int, reference_ids: tuple[int, ...]) -> st.SearchStrategy[list[int]]:
    """Draw valid bodies: one to ``max_batch`` IDs, mixing reference IDs with random ones."""
    return from_schema(body_schema(max_batch, reference_ids))


# Invalid bodies.


def _invalid_items() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda number: not number.is_integer()),
        st.integers(max_value=0),
        st.integers(min_value=INT64_MAX + 1),
        st.integers(min_value=1, max_value=INT64_MAX).map(str),
        st.lists(st.integers(min_value=1, max_value=INT64_MAX), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


@functools.cache
def invalid_bodies(defect: str, max_batch: int, reference_ids: tuple[int, ...]) -> st.SearchStrategy[InvalidBody]:
    """Draw bodies that break the body schema in the way ``defect`` names (one of ``BODY_DEFECTS``)."""
    valid_ids = st.lists(st.sampled_from(reference_ids), min_size=1, max_size=max_batch)

    def json_body(value: Any) -> bytes:
        return json.dumps(value).encode()

    def malformed(body: bytes) -> InvalidBody:
        return InvalidBody(defect, body, "application/json", "REQUEST-MALFORMED", "malformed_body_status")

    if defect == "object":
        objects = st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text()), max_size=3)
        return st.one_of(objects, st.builds(lambda ids: {"ids": ids}, valid_ids)).map(json_body).map(malformed)
    if defect == "scalar":
        return from_schema({"type": ["null", "boolean", "number", "string"]}).map(json_body).map(malformed)
    if defect == "invalid-item":
        return st.builds(
            lambda ids, item, position: [*ids[:position], item, *ids[position:]],
            st.lists(st.sampled_from(reference_ids), max_size=max_batch - 1),
            _invalid_items(),
            st.integers(min_value=0, max_value=max_batch),
        ).map(json_body).map(malformed)
    if defect == "empty":
        return st.just(InvalidBody(defect, b"[]", "application/json", "REQUEST-EMPTY", "empty_list_status"))
    if defect == "oversized":
        return st.lists(
            st.sampled_from(reference_ids), min_size=max_batch + 1, max_size=2 * max_batch + 1
        ).map(lambda ids: InvalidBody(
            defect, json_body(ids), "application/json", "REQUEST-BATCH-LIMIT", "over_batch_status"
        ))
    if defect == "not-json":
        return st.binary(max_size=64).filter(_not_json).map(malformed)
    if defect == "wrong-content-type":
        return st.builds(
            lambda ids, content_type: InvalidBody(
                defect, json_body(ids), content_type, "REQUEST-CONTENT-TYPE", "wrong_content_type_status"
            ),
            valid_ids,
            st.sampled_from([*WRONG_CONTENT_TYPES, OMIT]),
        )
    raise ValueError(f"unknown body defect {defect!r}; choose one of {', '.join(BODY_DEFECTS)}")


# Queries.


def query_schema(supported_sources: Sequence[str], source_required: bool) -> dict[str, Any]:
    """Return the query schema with ``source`` limited to the environment's supported sources."""
    schema = schemas.load_schema(QUERY_SCHEMA)
    if supported_sources:
        schema["properties"]["source"] = {"enum": list(supported_sources)}
    if source_required:
        schema["required"] = ["source"]
    return schema


def query_objects(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Draw objects valid against the query schema, identifier pairs included."""
    return from_schema(schema)


def _unknown_parameter_names() -> st.SearchStrategy[str]:
    documented = {name.casefold() for name in QUERY_PARAMETERS}
    return st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,15}\Z").filter(lambda name: name.casefold() not in documented)


def _to_pairs(query: dict[str, Any], extra: Sequence[tuple[str, str]]) -> tuple[tuple[str, Any], ...]:
    pairs: list[tuple[str, Any]] = []
    for name in QUERY_PARAMETERS:
        value = query.get(name, OMIT)
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    return (*pairs, *extra)


@functools.cache
def valid_queries(supported_sources: tuple[str, ...], source_required: bool) -> st.SearchStrategy[QueryCase]:
    """Draw valid queries: any documented combination, repeated ``format=json``, unknown extras."""
    extra = st.lists(st.tuples(_unknown_parameter_names(), st.text(max_size=10)), max_size=2)
    return st.builds(
        lambda query, extra_pairs: QueryCase(_to_pairs(query, extra_pairs)),
        query_objects(query_schema(supported_sources, source_required)).map(_with_account_id),
        extra,
    )


def _with_account_id(query: dict[str, Any]) -> dict[str, Any]:
    # The vendor's other endpoints need accountId for every source but INSTORE. The bulk page
    # is silent, so valid queries always send one there, to be valid under either reading.
    if query.get("source", "INSTORE") != "INSTORE" and "accountId" not in query:
        return {**query, "accountId": "1234"}
    return query


def _wrong_value(common: Sequence[str], accepted: Sequence[str], min_size: int = 0) -> st.SearchStrategy[str]:
    """Draw strings that are not accepted, ignoring case and surrounding spaces.

    A real server may well trim or fold case, so those near misses prove nothing either way.
    """
    folded = {value.strip().casefold() for value in accepted}
    candidates = st.one_of(st.sampled_from(common), st.text(min_size=min_size, max_size=12))
    return candidates.filter(lambda value: value.strip().casefold() not in folded)


@functools.cache
def invalid_queries(
    defect: str, supported_sources: tuple[str, ...], source_required: bool
) -> st.SearchStrategy[QueryCase]:
    """Draw a valid query with one parameter broken as ``defect`` names (one of ``QUERY_DEFECTS``)."""
    base = query_objects(query_schema(supported_sources, source_required))
    identifier_names = schemas.load_schema(QUERY_SCHEMA)["properties"]["identifierName"]["enum"]

    def broken(
        query: dict[str, Any], changes: dict[str, Any], rule: str, expectation: str | None = None
    ) -> QueryCase:
        return QueryCase(_to_pairs({**query, **changes}, ()), rule, expectation)

    if defect == "format":
        wrong = _wrong_value(COMMON_WRONG_FORMATS, ["json"])
        formats = st.builds(lambda value, repeat: ["json"] * repeat + [value], wrong, st.integers(0, 1))
        return st.builds(
            lambda query, value: broken(query, {"format": value}, "QUERY-FORMAT"), base, formats
        )
    if defect == "identifier-name":
        return st.builds(
            lambda query, name, value: broken(
                query, {"identifierName": name, "identifierValue": value}, "QUERY-IDENTIFIER-NAME"
            ),
            base, _wrong_value(COMMON_WRONG_IDENTIFIER_NAMES, identifier_names, min_size=1), st.text(min_size=1),
        )
    if defect == "identifier-half-pair":
        halves = st.one_of(
            st.builds(lambda name: {"identifierName": name, "identifierValue": OMIT}, st.sampled_from(identifier_names)),
            st.builds(lambda value: {"identifierName": OMIT, "identifierValue": value}, st.text(min_size=1)),
        )
        return st.builds(
            lambda query, half: broken(query, half, "QUERY-IDENTIFIER-PAIR", "identifier_pair_status"), base, halves
        )
    if defect == "source":
        return st.builds(
            lambda query, source: broken(query, {"source": source}, "QUERY-SOURCE", "unknown_source_status"),
            base, _wrong_value(COMMON_WRONG_SOURCES, supported_sources, min_size=1),
        )
    raise ValueError(f"unknown query defect {defect!r}; choose one of {', '.join(QUERY_DEFECTS)}")
