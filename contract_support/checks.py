"""Contract checks on recorded calls: status, content type, schemas and per-entity rules.

Each check raises ``ContractViolation`` naming the rule it guards, the request, the JSON
path and the offending value. Inferred expectations come from the environment, so a target
that resolves an open point differently can declare it in its environment file.
"""

from __future__ import annotations

import collections
import json
import contextlib
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from contract_support import schemas
from contract_support.client import ApiCall
from contract_support.config import Environment
from contract_support.failures import SCHEMA, SEMANTIC, STATUS, ContractViolation
from contract_support.redaction import Redactor

ENVELOPE_SCHEMA = "response/envelope.schema.json"
ERROR_SCHEMA = "response/error-response.schema.json"
SUCCESSFUL_ENTITY_SCHEMA = "response/successful-entity.schema.json"
# Identifier types that name one customer, so two customers never share a value.
PERSONAL_IDENTIFIER_TYPES = frozenset({"mobile", "email", "externalId"})
# Stricter than the "email" format check of jsonschema 4.26, which only requires an "@".
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_MAX_SCHEMA_ERRORS = 5

try:
    import allure
except ImportError:  # pragma: no cover - allure-pytest is a pinned requirement
    allure = None


def _step(title: str | Callable[..., str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Show a check as an Allure step; ``title`` may be a function of the check's arguments."""
    def decorate(check: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(check)
        def run_as_step(self: Any, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            text = title if isinstance(title, str) else title(*args, **kwargs)
            with allure.step(text) if allure is not None else contextlib.nullcontext():
                try:
                    return check(self, *args, **kwargs)
                except ContractViolation as violation:
                    # The message names the rule, path and value, so the frames inside the
                    # checks would only push it down the report: the traceback ends here.
                    raise violation.with_traceback(None)  # noqa: B904 - the same exception
        return run_as_step
    return decorate


MISSING = object()


def first_difference(actual: Any, expected: Any, path: str) -> tuple[str, Any, Any]:
    """Return the JSON path and both values where ``actual`` first differs from ``expected``.

    A key present on one side only shows as ``MISSING`` on the other.
    """
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in [*expected, *(key for key in actual if key not in expected)]:
            if actual.get(key, MISSING) != expected.get(key, MISSING):
                return first_difference(actual.get(key, MISSING), expected.get(key, MISSING), f"{path}.{key}")
    if isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        for index, (item, expected_item) in enumerate(zip(actual, expected)):
            if item != expected_item:
                return first_difference(item, expected_item, f"{path}[{index}]")
    return path, actual, expected


def iter_results_with_path(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, result in enumerate(body.get("data") or []):
        yield f"$.data[{index}]", result


def entity_id(result: dict[str, Any]) -> Any:
    entity = result.get("entity")
    return entity.get("id") if isinstance(entity, dict) else None


class ContractChecker:
    """Checks for one environment; raises ``ContractViolation`` on the first broken rule."""

    def __init__(self, environment: Environment, redactor: Redactor):
        self.environment = environment
        self.expectations = environment.expectations
        self.redactor = redactor

    def violation(self, call: ApiCall, rule: str, title: str, **fields: Any) -> ContractViolation:
        """Build the violation, with secrets (and, where the environment masks them, personal data) hidden.

        The message is cleaned here rather than later, because Allure records a failing
        step's message the moment the exception leaves it.
        """
        if "value" in fields:
            fields["has_value"] = True
            fields["value"] = self.redactor.json_value(fields["value"])
        if fields.get("expected"):
            fields["expected"] = self.redactor.text(fields["expected"])
        title = self.redactor.text(title)
        return ContractViolation(
            rule, title, request=self.describe(call), curl=call.curl(self.redactor), **fields
        )

    def require(self, condition: Any, call: ApiCall, rule: str, title: str, **fields: Any) -> None:
        """Raise a violation of ``rule`` unless ``condition`` holds; ``fields`` as for ``ContractViolation``."""
        __tracebackhide__ = True
        if not condition:
            fields.setdefault("failure_class", SEMANTIC)
            raise self.violation(call, rule, title, **fields)

    def differing_answer(
        self, call: ApiCall, other_call: ApiCall, rule: str, title: str, json_path: str, actual: Any, expected: Any,
    ) -> ContractViolation:
        """Build a violation at the first difference between two responses, showing both requests.

        ``call`` is the request the curl command reproduces; ``other_call`` gave ``expected``.
        """
        path, value, expected_value = first_difference(actual, expected, json_path)
        shown = "(missing)" if expected_value is MISSING else json.dumps(expected_value, sort_keys=True)[:300]
        return self.violation(
            call, rule, title, failure_class=SEMANTIC, json_path=path,
            value="(missing)" if value is MISSING else value,
            expected=f"{shown}, as in: {self.describe(other_call)}\n  {other_call.curl(self.redactor)}",
        )

    def same_answer(
        self, call: ApiCall, other_call: ApiCall, rule: str, title: str, json_path: str, actual: Any, expected: Any,
    ) -> None:
        """Raise ``differing_answer`` unless ``actual`` equals ``expected``."""
        __tracebackhide__ = True
        if actual != expected:
            raise self.differing_answer(call, other_call, rule, title, json_path, actual, expected)

    def describe(self, call: ApiCall) -> str:
        body = self.redactor.body(call.request_body)
        if len(body) > 300:
            body = body[:300] + " ..."
        return self.redactor.text(f"{call.method} {call.full_url} body {body or '(none)'} -> HTTP {call.status}")

    # Status, headers and bodies.

    @_step(lambda call, expected, rule: f"check {rule}: HTTP status")
    def status(self, call: ApiCall, expected: Iterable[int], rule: str) -> None:
        expected = sorted(set(expected))
        if call.status not in expected:
            body = self.redactor.body(call.response_body)
            raise self.violation(
                call, rule, f"HTTP {call.status} where the contract expects {' or '.join(map(str, expected))}",
                failure_class=STATUS, json_path="(status)", value=call.status,
                expected=f"one of {expected}; response body: {body[:500]}",
            )

    @_step(lambda call, rule="ENVELOPE-CONTENT-TYPE": f"check {rule}: JSON content type")
    def json_content_type(self, call: ApiCall, rule: str = "ENVELOPE-CONTENT-TYPE") -> None:
        media_type = call.content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise self.violation(
                call, rule, "response is not labelled as JSON",
                failure_class=SCHEMA, json_path="(header Content-Type)", value=call.content_type,
                expected="application/json, optionally with parameters such as charset",
            )

    def json_body(self, call: ApiCall, rule: str) -> Any:
        try:
            return call.json()
        except ValueError as error:
            text = call.response_body.decode("utf-8", errors="replace")
            raise self.violation(
                call, rule, f"response body is not JSON ({error})",
                failure_class=SCHEMA, json_path="$", value=self.redactor.text(text[:500]),
            ) from None

    @_step(lambda call, instance, schema_name, rule: f"validate schema {schema_name} ({rule})")
    def schema(self, call: ApiCall, instance: Any, schema_name: str, rule: str) -> None:
        errors = schemas.iter_errors(schema_name, instance)
        if not errors:
            return

        first = errors[0]
        details = [
            f"{schemas.json_path(error)}: {error.message} (schema keyword {schemas.schema_path(error)})"
            for error in errors[:_MAX_SCHEMA_ERRORS]
        ]
        if len(errors) > _MAX_SCHEMA_ERRORS:
            details.append(f"... and {len(errors) - _MAX_SCHEMA_ERRORS} more")
        raise self.violation(
            call, rule, f"response does not match {schema_name}: {first.message}",
            failure_class=SCHEMA, json_path=schemas.json_path(first), value=first.instance,
            expected="\n  ".join(["schema errors:", *details]),
        )

    @_step("check the 200 envelope")
    def envelope(self, call: ApiCall) -> dict[str, Any]:
        """Check a 200 answer's status, content type and schema, and return its body.

        A schema error inside a result's fields counts against ENTITY-SCHEMA, and one in the
        envelope itself (``$`` or ``$.data``) against ENVELOPE-SCHEMA.
        """
        self.status(call, [200], "ENVELOPE-SCHEMA")
        body = self.json_body(call, "ENVELOPE-SCHEMA")
        self.json_content_type(call)

        errors = schemas.iter_errors(ENVELOPE_SCHEMA, body)
        inside_results = bool(errors) and len(errors[0].absolute_path) >= 3
        self.schema(call, body, ENVELOPE_SCHEMA, "ENTITY-SCHEMA" if inside_results else "ENVELOPE-SCHEMA")
        return body

    @_step(lambda call, statuses, rule: f"check {rule}: error response")
    def error_response(self, call: ApiCall, statuses: Iterable[int], rule: str) -> dict[str, Any]:
        """Check a refused request: the expected status, then a JSON error body.

        An environment may expect a 2xx instead (``expectations``), and then the response must
        be a valid 200 envelope rather than an error body.
        """
        self.status(call, statuses, rule)
        if call.status < 300:
            return self.envelope(call)
        self.error_body(call)
        return call.json()

    @_step(lambda call, rule="ERROR-BODY": f"check {rule}: JSON error body")
    def error_body(self, call: ApiCall, rule: str = "ERROR-BODY") -> None:
        body = self.json_body(call, rule)
        self.json_content_type(call, rule)
        self.schema(call, body, ERROR_SCHEMA, rule)

    # Per-entity semantics.

    @_step("check ENVELOPE-NO-ERRORS")
    def no_envelope_errors(self, call: ApiCall, body: dict[str, Any]) -> None:
        errors = body.get("errors")
        if errors:
            raise self.violation(
                call, "ENVELOPE-NO-ERRORS", "a 200 answer carries top-level error items",
                json_path="$.errors", value=errors,
                expected="an empty list or null; per-customer failures belong in $.data[*].errors",
            )

    @_step("check ENTITY-COMPLETE")
    def complete_entities(self, call: ApiCall, body: dict[str, Any]) -> None:
        for path, result in iter_results_with_path(body):
            if result.get("success") is not True or not isinstance(result.get("entity"), dict):
                continue
            errors = schemas.iter_errors(SUCCESSFUL_ENTITY_SCHEMA, result["entity"])
            if errors:
                first = errors[0]
                raise self.violation(
                    call, "ENTITY-COMPLETE", f"a successful entity is incomplete: {first.message}",
                    failure_class=SCHEMA, json_path=f"{path}.entity{schemas.json_path(first)[1:]}",
                    value=first.instance, expected=f"every field {SUCCESSFUL_ENTITY_SCHEMA} requires",
                )

    @_step("check RESULT-FAILED-REDUCED")
    def failed_results_reduced(self, call: ApiCall, body: dict[str, Any]) -> None:
        for path, result in iter_results_with_path(body):
            entity = result.get("entity")
            if result.get("success") is not False or not isinstance(entity, dict):
                continue
            if entity.get("profiles"):
                raise self.violation(
                    call, "RESULT-FAILED-REDUCED", "a failed result carries customer profiles",
                    json_path=f"{path}.entity.profiles", value=entity["profiles"],
                    expected="no profile: a failed result's entity is reduced to its id",
                )

    @_step("check RESULT-RIGHT-CUSTOMER: distinct customers")
    def distinct_customers(self, call: ApiCall, body: dict[str, Any]) -> None:
        """Check that different customers in one response share no mobile, email or external ID."""
        owners: dict[tuple[str, str], tuple[Any, str]] = {}
        for path, result in iter_results_with_path(body):
            entity = result.get("entity") or {}
            for profile_index, profile in enumerate(entity.get("profiles") or []):
                for index, item in enumerate(profile.get("identifiers") or []):
                    if item.get("type") not in PERSONAL_IDENTIFIER_TYPES or not item.get("value"):
                        continue
                    key = (item["type"], str(item["value"]))
                    here = f"{path}.entity.profiles[{profile_index}].identifiers[{index}].value"
                    owner = owners.setdefault(key, (entity.get("id"), here))
                    if owner[0] != entity.get("id"):
                        raise self.violation(
                            call, "RESULT-RIGHT-CUSTOMER", "two customers in one response share an identifier",
                            json_path=here, value=item["value"],
                            expected=f"an identifier of customer {entity.get('id')} alone, but {owner[1]} "
                            f"gives it to customer {owner[0]}",
                        )

    @_step("check RESULT-COUNT")
    def one_result_per_id(self, call: ApiCall, body: dict[str, Any], ids: Sequence[int]) -> None:
        data = body["data"]
        if self.expectations["duplicate_ids"] == "once":
            expected_count = len(set(ids))
        else:
            expected_count = len(ids)
        if len(data) != expected_count:
            returned = [entity_id(result) for result in data]
            missing = sorted((collections.Counter(ids) - collections.Counter(returned)).elements())
            raise self.violation(
                call, "RESULT-COUNT", f"{len(data)} results for {len(ids)} requested IDs",
                json_path="$.data", value={"returned entity IDs": returned, "missing": missing},
                expected=f"{expected_count} results, one per requested ID",
            )

    @_step("check RESULT-IDENTITY and RESULT-ORDER")
    def result_identity(self, call: ApiCall, body: dict[str, Any], ids: Sequence[int]) -> None:
        """Check that the entity IDs are the requested ones, and in request order if expected."""
        results = body["data"]
        with_entity = [(path, result) for path, result in iter_results_with_path(body) if "entity" in result]
        if self.expectations["failed_result_has_entity"]:
            for path, result in iter_results_with_path(body):
                if "entity" not in result:
                    raise self.violation(
                        call, "RESULT-IDENTITY", "result has no entity to tell which ID it answers",
                        json_path=path, value=result, expected="an entity with the requested id",
                    )

        returned = collections.Counter(entity_id(result) for _, result in with_entity)
        requested = collections.Counter(ids)
        if self.expectations["duplicate_ids"] == "once":
            requested = collections.Counter(set(ids))
        unexpected = returned - requested
        if unexpected:
            path, result = next((p, r) for p, r in with_entity if entity_id(r) in unexpected)
            raise self.violation(
                call, "RESULT-IDENTITY", "a result answers an ID that was not requested",
                json_path=f"{path}.entity.id", value=entity_id(result),
                expected=f"one of the requested IDs {sorted(set(ids))}",
            )

        if self.expectations["result_order"] != "request" or len(results) != sum(requested.values()):
            return
        order = list(ids) if self.expectations["duplicate_ids"] == "each" else list(dict.fromkeys(ids))
        for index, (requested_id, result) in enumerate(zip(order, results)):
            if "entity" in result and entity_id(result) != requested_id:
                raise self.violation(
                    call, "RESULT-ORDER", "results are not in the order of the requested IDs",
                    json_path=f"$.data[{index}].entity.id", value=entity_id(result),
                    expected=f"{requested_id}, the ID requested at position {index}",
                )

    @_step("check RESULT-SUCCESS-FLAG")
    def success_flags(self, call: ApiCall, body: dict[str, Any]) -> None:
        for path, result in iter_results_with_path(body):
            errors = result.get("errors") or []
            entity = result.get("entity")
            complete = isinstance(entity, dict) and bool(entity.get("profiles"))
            should_succeed = not errors and complete
            if result["success"] != should_succeed:
                if errors:
                    reason = ", because it has errors"
                elif not complete:
                    reason = ", because it has no entity with a profile"
                else:
                    reason = ""
                expected = f"success {str(should_succeed).lower()}{reason}"
                raise self.violation(
                    call, "RESULT-SUCCESS-FLAG", "`success` disagrees with the result's errors and entity",
                    json_path=f"{path}.success", value=result["success"],
                    expected=f"{expected}; errors: {errors}",
                )

    @_step("check RESULT-UNKNOWN-ID")
    def answered_ids(self, body: dict[str, Any], ids: Sequence[int]) -> list[Any]:
        """Return the customer ID that each result answers, in the order of ``$.data``.

        That is the entity's id. The environment may allow failed results without an entity.
        When results follow request order, such a result is taken to answer the ID requested
        at its position. Otherwise its ID is unknown (None).
        """
        data = body.get("data") or []
        by_position = (
            self.expectations["result_order"] == "request"
            and self.expectations["duplicate_ids"] == "each"
            and len(data) == len(ids)
        )
        answered = []
        for index, result in enumerate(data):
            customer_id = entity_id(result)
            if customer_id is None and "entity" not in result and by_position:
                customer_id = ids[index]
            answered.append(customer_id)
        return answered

    def unknown_ids_fail(
        self, call: ApiCall, body: dict[str, Any], unknown_ids: Iterable[int], ids: Sequence[int] | None = None,
    ) -> None:
        """Check that every result for an unknown ID failed with a not-found error item.

        ``ids`` is the request, which places results that have no entity.
        """
        unknown = set(unknown_ids)
        codes = self.expectations["not_found_codes"]
        answered = self.answered_ids(body, ids if ids is not None else call.sent_ids or [])
        for (path, result), customer_id in zip(iter_results_with_path(body), answered):
            if customer_id not in unknown:
                continue
            if result["success"] is not False:
                raise self.violation(
                    call, "RESULT-UNKNOWN-ID", "an unknown customer ID is reported as found",
                    json_path=f"{path}.success", value=result["success"], expected="false",
                )
            found_codes = [item.get("code") for item in result.get("errors") or []]
            if not set(found_codes) & set(codes):
                raise self.violation(
                    call, "RESULT-UNKNOWN-ID", "an unknown customer ID lacks a not-found error item",
                    json_path=f"{path}.errors", value=result.get("errors"),
                    expected=f"an error item with code in {codes}",
                )

    @_step("check ENTITY-USERID")
    def user_ids(self, call: ApiCall, body: dict[str, Any]) -> None:
        for path, result in iter_results_with_path(body):
            entity = result.get("entity") or {}
            for index, profile in enumerate(entity.get("profiles") or []):
                if profile.get("userId") != entity.get("id"):
                    raise self.violation(
                        call, "ENTITY-USERID", "a profile's userId differs from its entity's id",
                        json_path=f"{path}.entity.profiles[{index}].userId", value=profile.get("userId"),
                        expected=f"{entity.get('id')} (entity.id)",
                    )

    @_step("check DATA-EMAIL")
    def email_values(self, call: ApiCall, body: dict[str, Any]) -> None:
        for path, result in iter_results_with_path(body):
            entity = result.get("entity") or {}
            for profile_index, profile in enumerate(entity.get("profiles") or []):
                for key in ("identifiers", "identifiersAll", "commChannels"):
                    for index, item in enumerate(profile.get(key) or []):
                        if item.get("type") == "email" and not EMAIL.match(str(item.get("value", ""))):
                            raise self.violation(
                                call, "DATA-EMAIL", "an email identifier does not hold an email address",
                                json_path=f"{path}.entity.profiles[{profile_index}].{key}[{index}].value",
                                value=item.get("value"), expected="an address of the form name@domain.tld",
                            )

    @_step("check DATA-PURCHASES")
    def purchases(self, call: ApiCall, body: dict[str, Any]) -> None:
        for path, result in iter_results_with_path(body):
            loyalty = (result.get("entity") or {}).get("loyaltyInfo") or {}
            amount = loyalty.get("lifetimePurchases")
            if isinstance(amount, (int, float)) and amount < 0:
                raise self.violation(
                    call, "DATA-PURCHASES", "lifetime purchases are negative",
                    json_path=f"{path}.entity.loyaltyInfo.lifetimePurchases", value=amount,
                    expected="a number of at least 0",
                )

    @_step("check every batch rule")
    def batch(self, call: ApiCall, ids: Sequence[int], unknown_ids: Iterable[int] = ()) -> dict[str, Any]:
        """Run every response check that holds for any batch, and return the body."""
        body = self.envelope(call)
        self.no_envelope_errors(call, body)
        self.one_result_per_id(call, body, ids)
        self.result_identity(call, body, ids)
        self.success_flags(call, body)
        self.unknown_ids_fail(call, body, unknown_ids, ids)
        self.failed_results_reduced(call, body)
        self.complete_entities(call, body)
        self.distinct_customers(call, body)
        self.user_ids(call, body)
        return body


def result_for(body: dict[str, Any], customer_id: int) -> dict[str, Any] | None:
    """Return the first result whose entity has ``customer_id``, or None."""
    return next((result for result in body.get("data") or [] if entity_id(result) == customer_id), None)


__all__ = ["ContractChecker", "result_for", "entity_id", "EMAIL", "SCHEMA", "SEMANTIC", "STATUS"]
