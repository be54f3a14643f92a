"""Hooks of the contract faults: each class breaks exactly one rule of the documented contract.

`faults.py` maps fault names to these classes and describes each of them.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from datetime import datetime, timedelta

from flask import Request, Response

from .auth import AuthOutcome
from .data import BASE_UPDATE_TIME, FIRST_CUSTOMER_ID, email_of, external_id_of, last_name_of, mobile_of
from .hooks import Batch, Counter, Hooks, is_bulk_request
from .responses import SandboxError, error_item, json_response
from .validation import RequestRules


def _is_spoiled(customer_id: int) -> bool:
    """Return whether a data fault spoils this customer: odd IDs, so the first customer is among them."""
    return customer_id % 2 == 1


# Envelope faults.


class EnvelopeMissingData(Hooks):
    def adjust_envelope(self, envelope: dict, batch: Batch) -> object:
        envelope.pop("data")
        return envelope


class EnvelopeDataObject(Hooks):
    def adjust_envelope(self, envelope: dict, batch: Batch) -> object:
        envelope["data"] = {str(result["entity"]["id"]): result for result in envelope["data"]}
        return envelope


class EnvelopeExtraWrapper(Hooks):
    def adjust_envelope(self, envelope: dict, batch: Batch) -> object:
        return {"response": envelope}


class EnvelopeErrors(Hooks):
    def adjust_envelope(self, envelope: dict, batch: Batch) -> object:
        envelope["errors"] = [error_item(500, "partial failure")]
        return envelope


class TextPlainResponse(Hooks):
    def adjust_response(self, response: Response, request: Request) -> Response:
        if is_bulk_request(request) and response.status_code == 200:
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
        return response


# Type faults in results and entities.


class IdAsString(Hooks):
    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        result["entity"]["id"] = str(result["entity"]["id"])
        return result


class SuccessAsString(Hooks):
    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        result["success"] = "true" if result["success"] else "false"
        return result


class BadDatetime(Hooks):
    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        for profile in entity["profiles"]:
            moment = datetime.strptime(profile["autoUpdateTime"], "%Y-%m-%dT%H:%M:%SZ")
            profile["autoUpdateTime"] = moment.strftime("%d/%m/%Y %H:%M")
        return entity


class PurchasesAsString(Hooks):
    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        loyalty = entity["loyaltyInfo"]
        loyalty["lifetimePurchases"] = str(loyalty["lifetimePurchases"])
        return entity


class UserIdMismatch(Hooks):
    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        for profile in entity["profiles"]:
            profile["userId"] = entity["id"] + 1
        return entity


class SkeletonEntity(Hooks):
    """Reduce each found customer to its ID and the userId and identifiers of its profiles."""

    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        profiles = [
            {"userId": profile["userId"], "identifiers": profile["identifiers"]} for profile in entity["profiles"]
        ]
        return {"id": entity["id"], "profiles": profiles}


# Per-result semantics.


class SuccessWithErrors(Hooks):
    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        if batch.lookup.status_of(customer_id) == "found":
            result["errors"].append(error_item(500, "Some customer attributes could not be loaded"))
        return result


class UnknownAsSuccess(Hooks):
    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        if batch.lookup.status_of(customer_id) == "not-found":
            result["entity"] = {"id": customer_id, "profiles": []}
            result["errors"] = []
            result["success"] = True
        return result


class UnknownSpoilsKnown(Hooks):
    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        if batch.lookup.status_of(customer_id) == "found" and batch.has_unknown_id():
            result["entity"].pop("loyaltyInfo", None)
            result["errors"].append(error_item(500, "partial failure"))
            result["success"] = False
        return result


class WrongCustomer(Hooks):
    """Serve the profiles of the next customer under the requested ID."""

    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        next_id = batch.store.next_active_id(entity["id"])
        if next_id is None or next_id == entity["id"]:
            return entity
        other = batch.store.lookup([next_id]).entities[next_id]
        for profile in other["profiles"]:
            profile["userId"] = entity["id"]
        entity["profiles"] = other["profiles"]
        return entity


class SameCustomerForAll(Hooks):
    """Serve the profiles of the batch's first found customer for every found customer.

    This is what a lookup returns when it lost its WHERE clause and takes the
    first row. Each profile's userId is rewritten to the requested ID, so only
    the profile contents are wrong.
    """

    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        first_id = next(
            customer_id for customer_id in batch.ids if batch.lookup.status_of(customer_id) == "found"
        )
        if entity["id"] == first_id:
            return entity
        # The first customer's entity is adjusted first and returned unchanged,
        # so its profiles are still as stored.
        profiles = copy.deepcopy(batch.lookup.entities[first_id]["profiles"])
        for profile in profiles:
            profile["userId"] = entity["id"]
        entity["profiles"] = profiles
        return entity


class DeletedLeaksPii(Hooks):
    """Send the full profile of a deleted customer in its failed result, which keeps error 8109."""

    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        if batch.lookup.status_of(customer_id) == "deleted":
            result["entity"]["profiles"] = [_profile_before_deletion(customer_id)]
        return result


class UnknownLeaksOther(Hooks):
    """Send the profiles of customer 400000001 in the failed result of every unknown ID, which keeps error 8015."""

    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        if batch.lookup.status_of(customer_id) != "not-found":
            return result
        profiles = batch.store.lookup([FIRST_CUSTOMER_ID]).entities[FIRST_CUSTOMER_ID]["profiles"]
        # userId follows the requested ID, so that only the leaked personal data
        # breaks the contract and ENTITY-USERID still holds.
        for profile in profiles:
            profile["userId"] = customer_id
        result["entity"]["profiles"] = profiles
        return result


def _profile_before_deletion(customer_id: int) -> dict:
    """Rebuild a deleted customer's in-store profile from the data set's fixed names and identifiers.

    The database keeps no profile rows for deleted customers. Names and the
    mobile, email and externalId identifiers follow the rules of every in-store
    profile, while gender, channel, accountId and autoUpdateTime are fixed stand-ins.
    """
    identifiers = [
        {"type": "mobile", "value": mobile_of(customer_id)},
        {"type": "email", "value": email_of(customer_id)},
        {"type": "externalId", "value": external_id_of(customer_id)},
    ]
    channel = {
        "type": "email",
        "value": email_of(customer_id),
        "primary": True,
        "verified": True,
        "meta": {"residence": True, "office": False},
        "attributes": {},
    }
    return {
        "firstName": "Sandbox",
        "lastName": last_name_of(customer_id),
        "fields": {"gender": "OTHER"},
        "allFields": {},
        "identifiers": identifiers,
        "commChannels": [channel],
        "source": "INSTORE",
        "userId": customer_id,
        "accountId": "1001",
        "conflictingProfileList": [],
        "autoUpdateTime": BASE_UPDATE_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "identifiersAll": copy.deepcopy(identifiers),
    }


class BatchDependent(Hooks):
    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        if len(batch.ids) >= 2:
            entity["segments"]["batchSize"] = str(len(batch.ids))
        return entity


class NotIdempotent(Hooks):
    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        for profile in entity["profiles"]:
            moment = datetime.strptime(profile["autoUpdateTime"], "%Y-%m-%dT%H:%M:%SZ")
            moment += timedelta(seconds=batch.call_number)
            profile["autoUpdateTime"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        return entity


# Data faults.


class EmailNotEmail(Hooks):
    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        if not _is_spoiled(entity["id"]):
            return entity
        for profile in entity["profiles"]:
            items = profile["identifiers"] + profile["identifiersAll"] + profile["commChannels"]
            for item in items:
                if item["type"] == "email":
                    item["value"] = "not-an-email"
        return entity


class NegativePurchases(Hooks):
    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        if _is_spoiled(entity["id"]):
            loyalty = entity["loyaltyInfo"]
            loyalty["lifetimePurchases"] = -abs(loyalty["lifetimePurchases"]) - 100.0
        return entity


# Result list faults.


class UnknownDropped(Hooks):
    def adjust_results(self, results: list[dict], batch: Batch) -> list[dict]:
        return [
            result
            for result, customer_id in zip(results, batch.ids)
            if batch.lookup.status_of(customer_id) != "not-found"
        ]


class DuplicatesCollapsed(Hooks):
    def adjust_results(self, results: list[dict], batch: Batch) -> list[dict]:
        seen: set[int] = set()
        first_occurrences = []
        for result, customer_id in zip(results, batch.ids):
            if customer_id not in seen:
                seen.add(customer_id)
                first_occurrences.append(result)
        return first_occurrences


class LargeBatchTruncated(Hooks):
    def adjust_results(self, results: list[dict], batch: Batch) -> list[dict]:
        if len(batch.ids) > 10:
            return results[:-1]
        return results


class Unknown500(Hooks):
    def adjust_results(self, results: list[dict], batch: Batch) -> list[dict]:
        if batch.has_unknown_id():
            raise SandboxError(500, 500, "UNEXPECTED_ERROR: customer lookup failed")
        return results


class OrderReversed(Hooks):
    def adjust_results(self, results: list[dict], batch: Batch) -> list[dict]:
        return results[::-1]


class SwappedEntities(Hooks):
    def adjust_results(self, results: list[dict], batch: Batch) -> list[dict]:
        if len(results) >= 2:
            results[0]["entity"], results[1]["entity"] = results[1]["entity"], results[0]["entity"]
        return results


# Request validation faults.


class Malformed500(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, malformed_body_status=500)


class DecimalIdAccepted(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, decimal_point_ids_allowed=True)


class ObjectBody200(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, object_body_is_empty_batch=True, min_batch=0)


class EmptyList200(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, min_batch=0)


class OverBatchAccepted(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, max_batch=None)


class WrongContentTypeAccepted(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, body_mimetypes=rules.body_mimetypes | {"text/plain"})


class IdentifierNameAccepted(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, identifier_names=None)


class FormatRepeatedRejected(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, repeated_format_allowed=False)


class FormatXmlAccepted(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, formats=(rules.formats or frozenset()) | {"xml"})


class UnknownSourceAccepted(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, sources=None)


class SourceWrongCode(Hooks):
    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return dataclasses.replace(rules, invalid_source_code=400)


# Error response faults.


class HtmlErrorPage(Hooks):
    def adjust_response(self, response: Response, request: Request) -> Response:
        if response.status_code != 400:
            return response
        page = "<html><head><title>400 Bad Request</title></head><body><h1>Bad Request</h1></body></html>"
        return Response(page, status=400, mimetype="text/html")


class UnknownPathNoJson(Hooks):
    def adjust_response(self, response: Response, request: Request) -> Response:
        if response.status_code != 404:
            return response
        return Response(f"Not Found: {request.path}", status=404, mimetype="text/plain")


# Authentication faults.


class AuthNoneAccepted(Hooks):
    def adjust_auth(self, outcome: AuthOutcome) -> AuthOutcome:
        if outcome.reason == "missing":
            return AuthOutcome(True, "ok", "")
        return outcome


class AuthWrongPasswordAccepted(Hooks):
    def adjust_auth(self, outcome: AuthOutcome) -> AuthOutcome:
        if outcome.reason in ("wrong-password", "plain-password"):
            return AuthOutcome(True, "ok", "")
        return outcome


class PlainPasswordAccepted(Hooks):
    """Accept Basic credentials that carry the password itself in place of its MD5 digest."""

    def adjust_auth(self, outcome: AuthOutcome) -> AuthOutcome:
        if outcome.reason == "plain-password":
            return AuthOutcome(True, "ok", "")
        return outcome


# Stability and latency faults.


class Intermittent500(Hooks):
    def __init__(self, settings) -> None:
        super().__init__(settings)
        self._calls = Counter()

    def intercept(self, request: Request) -> Response | None:
        if not is_bulk_request(request):
            return None
        if self._calls.next() % self.settings.intermittent_every != 0:
            return None
        body = {"warnings": [], "errors": [error_item(500, "UNEXPECTED_ERROR: internal failure")]}
        return json_response(body, 500)


class SlowLargeBatches(Hooks):
    def before_lookup(self, ids: list[int]) -> None:
        if len(ids) >= self.settings.slow_batch_threshold:
            time.sleep(self.settings.slow_seconds)
