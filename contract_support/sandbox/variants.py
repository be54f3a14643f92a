"""Hooks of the harmless variants: responses that differ from the sample but keep the contract.

A correct suite must accept every variant, because real servers send all of
them. `faults.py` maps variant names to these classes.
"""

from __future__ import annotations

import gzip

from flask import Request, Response

from .hooks import Batch, Hooks
from .responses import JSON_MIMETYPE, NOT_FOUND_CODE, error_item

LEGACY_NOT_FOUND_CODE = 816
LEGACY_NOT_FOUND_MESSAGE = "Customer not found for organization"


class ExtraFields(Hooks):
    """Add undocumented keys at the envelope, result, entity, profile and identifier levels."""

    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        entity["fraudDetails"] = {"status": "NONE", "markedAs": None}
        entity["loyaltyProgramDetails"] = []
        for profile in entity["profiles"]:
            profile["attribution"] = {"createdBy": "sandbox.till1", "createdFromSource": profile["source"]}
            for identifier in profile["identifiers"] + profile["identifiersAll"]:
                identifier["cardSeries"] = None
        return entity

    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        result["metadata"] = {"servedFrom": "primary"}
        return result

    def adjust_envelope(self, envelope: dict, batch: Batch) -> object:
        envelope["serverInfo"] = {"cluster": "sandbox"}
        return envelope


def _reverse_keys(value: object) -> object:
    if isinstance(value, dict):
        return {key: _reverse_keys(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [_reverse_keys(item) for item in value]
    return value


class KeyOrder(Hooks):
    """Send every object of the 200 body with its keys in reverse order."""

    def adjust_envelope(self, envelope: dict, batch: Batch) -> object:
        return _reverse_keys(envelope)


class Gzip(Hooks):
    """Compress bodies with gzip when the request accepts it."""

    def adjust_response(self, response: Response, request: Request) -> Response:
        if "gzip" not in request.accept_encodings or response.direct_passthrough:
            return response
        response.set_data(gzip.compress(response.get_data(), mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response


class Charset(Hooks):
    """Label JSON bodies `application/json; charset=utf-8`."""

    def adjust_response(self, response: Response, request: Request) -> Response:
        if response.mimetype == JSON_MIMETYPE:
            response.headers["Content-Type"] = "application/json; charset=utf-8"
        return response


class SuccessWarnings(Hooks):
    """Attach a warning item to every successful result."""

    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        if result["success"] is True:
            result["warnings"].append(error_item(8001, "Some optional customer attributes were not loaded"))
        return result


class EmptyOptionals(Hooks):
    """Leave out optional fields for customers who have no data for them.

    `cardDetails` is left out when the customer has no cards. For customers
    without any comm channel, `identifiersAll` and `associatedWith` are left
    out too, and `commChannels` stays an empty list.
    """

    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        if not entity["cardDetails"]:
            del entity["cardDetails"]

        has_channels = any(profile["commChannels"] for profile in entity["profiles"])
        if not has_channels:
            entity.pop("associatedWith", None)
            for profile in entity["profiles"]:
                profile.pop("identifiersAll", None)
        return entity


class IntegerPurchases(Hooks):
    """Send whole `lifetimePurchases` amounts as JSON integers."""

    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        loyalty = entity["loyaltyInfo"]
        amount = loyalty["lifetimePurchases"]
        if isinstance(amount, float) and amount.is_integer():
            loyalty["lifetimePurchases"] = int(amount)
        return entity


class LegacyNotFound(Hooks):
    """Report unknown IDs with the older error code 816."""

    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        if batch.lookup.status_of(customer_id) != "not-found":
            return result
        result["errors"] = [
            error_item(LEGACY_NOT_FOUND_CODE, LEGACY_NOT_FOUND_MESSAGE) if item["code"] == NOT_FOUND_CODE else item
            for item in result["errors"]
        ]
        return result
