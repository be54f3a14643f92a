"""Validate the query, Content-Type and body of a Get Customers Bulk request.

Every check raises `SandboxError` with status 400 (415 for the Content-Type)
and a message that names the offending parameter or JSON path and its value.
The checks read their limits from `RequestRules`, which faults may loosen or
tighten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from .responses import SandboxError
from .settings import SandboxSettings

INVALID_SOURCE_CODE = 8003
MAX_CUSTOMER_ID = 2**63 - 1

# Longer integer literals are kept as text, because Python refuses to convert
# literals of more than 4300 digits and none of them fits in 64 bits anyway.
_MAX_INTEGER_DIGITS = 40
_MAX_SHOWN_CHARACTERS = 60


@dataclass(frozen=True)
class RequestRules:
    """Limits a request must meet. A value of None turns the check off."""

    formats: frozenset[str] | None
    repeated_format_allowed: bool
    identifier_names: frozenset[str] | None
    sources: frozenset[str] | None
    body_mimetypes: frozenset[str]
    min_batch: int
    max_batch: int | None
    object_body_is_empty_batch: bool
    malformed_body_status: int
    decimal_point_ids_allowed: bool = False
    invalid_source_code: int = INVALID_SOURCE_CODE


def default_rules(settings: SandboxSettings) -> RequestRules:
    """Return the rules of the documented contract."""
    return RequestRules(
        formats=frozenset({"json"}),
        repeated_format_allowed=True,
        identifier_names=frozenset({"mobile", "email", "externalId"}),
        sources=frozenset(settings.supported_sources),
        body_mimetypes=frozenset({"application/json"}),
        min_batch=1,
        max_batch=settings.max_batch,
        object_body_is_empty_batch=False,
        malformed_body_status=400,
    )


@dataclass(frozen=True)
class BulkQuery:
    """Validated query parameters. They are checked but do not change the per-ID results."""

    identifier_name: str | None
    identifier_value: str | None
    source: str | None
    account_id: str | None


def check_content_type(mimetype: str, content_type_header: str | None, rules: RequestRules) -> None:
    """Reject a body that is not labelled with an accepted media type (charset parameters are ignored)."""
    if mimetype in rules.body_mimetypes:
        return
    if not content_type_header:
        raise SandboxError(415, 415, "Missing Content-Type header. Send the body as application/json.")
    raise SandboxError(415, 415, f"Unsupported Content-Type {content_type_header!r}. Send the body as application/json.")


def parse_query(args: MultiDict, rules: RequestRules) -> BulkQuery:
    """Validate the query parameters and return them. Unknown parameters are ignored."""
    formats = args.getlist("format")
    if len(formats) > 1 and not rules.repeated_format_allowed:
        raise SandboxError(400, 400, f"Query parameter format is repeated {len(formats)} times. Send it once.")
    for value in formats:
        if rules.formats is not None and value not in rules.formats:
            raise SandboxError(400, 400, f"Invalid query parameter format={value!r}. The only supported value is 'json'.")

    names = args.getlist("identifierName")
    values = args.getlist("identifierValue")
    if names and not any(values):
        raise SandboxError(
            400, 400, "Missing query parameter identifierValue. Send identifierName and identifierValue together."
        )
    if values and not any(names):
        raise SandboxError(
            400, 400, "Missing query parameter identifierName. Send identifierName and identifierValue together."
        )
    for name in names:
        if rules.identifier_names is not None and name not in rules.identifier_names:
            supported = ", ".join(sorted(rules.identifier_names))
            raise SandboxError(
                400, 400, f"Invalid query parameter identifierName={name!r}. Supported values: {supported}."
            )

    sources = args.getlist("source")
    for source in sources:
        if rules.sources is not None and source not in rules.sources:
            supported = ", ".join(sorted(rules.sources))
            raise SandboxError(
                400, rules.invalid_source_code, f"Invalid source {source!r}. Supported sources: {supported}."
            )

    return BulkQuery(
        identifier_name=names[0] if names else None,
        identifier_value=values[0] if values else None,
        source=sources[0] if sources else None,
        account_id=args.get("accountId"),
    )


def parse_body(raw: bytes, rules: RequestRules) -> list[int]:
    """Parse the body as a JSON array of positive 64-bit customer IDs and return them in order."""
    document = _decode_json(raw, rules)

    if isinstance(document, dict) and rules.object_body_is_empty_batch:
        return []
    if not isinstance(document, list):
        raise SandboxError(
            400, 400, f"$: expected a JSON array of customer IDs, got {_describe(document)}."
        )

    if rules.decimal_point_ids_allowed:
        document = [_whole_decimal_as_int(item) for item in document]
    for index, item in enumerate(document):
        _check_customer_id(index, item)

    if len(document) < rules.min_batch:
        raise SandboxError(400, 400, "$: the list of customer IDs is empty. Send at least one customer ID.")
    if rules.max_batch is not None and len(document) > rules.max_batch:
        raise SandboxError(
            400,
            400,
            f"$: the batch has {len(document)} customer IDs, more than the maximum of {rules.max_batch}."
            " Split it into smaller batches.",
        )
    return list(document)


def _decode_json(raw: bytes, rules: RequestRules) -> object:
    if not raw.strip():
        raise SandboxError(
            rules.malformed_body_status, rules.malformed_body_status,
            "The request body is empty. Send a JSON array of customer IDs.",
        )
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_float=Decimal,
            parse_int=_parse_integer,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise SandboxError(
            rules.malformed_body_status,
            rules.malformed_body_status,
            f"The request body is not valid JSON ({error}). Send a JSON array of customer IDs.",
        ) from error


def _parse_integer(text: str) -> int | str:
    if len(text.lstrip("-")) > _MAX_INTEGER_DIGITS:
        return _IntegerLiteral(text)
    return int(text)


class _IntegerLiteral(str):
    """An integer literal too long to convert, kept as its JSON text."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _whole_decimal_as_int(item: object) -> object:
    if isinstance(item, Decimal) and item.is_finite() and item == item.to_integral_value():
        return int(item)
    return item


def _check_customer_id(index: int, item: object) -> None:
    # bool is a subclass of int, so compare the exact type.
    if type(item) is not int:
        raise SandboxError(400, 400, f"$[{index}]: expected a positive integer customer ID, got {_describe(item)}.")
    if item <= 0:
        raise SandboxError(400, 400, f"$[{index}]: expected a positive integer customer ID, got {item}.")
    if item > MAX_CUSTOMER_ID:
        raise SandboxError(
            400, 400, f"$[{index}]: customer ID {_shorten(str(item))} does not fit in a signed 64-bit integer."
        )


def _describe(value: object) -> str:
    """Describe a JSON value for an error message: its type for containers, its text otherwise."""
    if isinstance(value, _IntegerLiteral):
        return f"an integer with {len(value.lstrip('-'))} digits, which does not fit in a signed 64-bit integer"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Decimal):
        return f"the number {value}"
    return _shorten(json.dumps(value))


def _shorten(text: str) -> str:
    if len(text) <= _MAX_SHOWN_CHARACTERS:
        return text
    return text[:_MAX_SHOWN_CHARACTERS] + "…"
