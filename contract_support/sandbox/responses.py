"""JSON bodies the sandbox sends: error items, error responses and per-customer results."""

from __future__ import annotations

import json

from flask import Response

JSON_MIMETYPE = "application/json"

NOT_FOUND_CODE = 8015
NOT_FOUND_MESSAGE = "Customer not found for given identifiers"
DELETED_CODE = 8109
DELETED_MESSAGE = "Customer is deleted after PII delete request"


class SandboxError(Exception):
    """A response other than 200, raised anywhere in a request and sent as the JSON error body."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_item(code: int, message: str) -> dict:
    """Build one item of an `errors` or `warnings` list."""
    return {"status": False, "code": code, "message": message}


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialize `body` as compact JSON, keeping the key order of every object."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode("utf-8"), status=status, mimetype=JSON_MIMETYPE, headers=headers)


def error_response(error: SandboxError) -> Response:
    """Build the JSON error response for `error`."""
    body = {"warnings": [], "errors": [error_item(error.code, error.message)]}
    return json_response(body, error.status, error.headers)


def found_result(entity: dict) -> dict:
    """Build the result of a requested ID whose customer exists."""
    return {"entity": entity, "warnings": [], "errors": [], "success": True}


def not_found_result(customer_id: int) -> dict:
    """Build the result of a requested ID that matches no customer."""
    return {
        "entity": {"id": customer_id},
        "warnings": [],
        "errors": [error_item(NOT_FOUND_CODE, NOT_FOUND_MESSAGE)],
        "success": False,
    }


def deleted_result(customer_id: int) -> dict:
    """Build the result of a customer deleted after a PII delete request, with a reduced entity."""
    entity = {
        "id": customer_id,
        "profiles": [],
        "loyaltyInfo": {"loyaltyType": "loyalty"},
        "segments": {},
        "extendedFields": {},
    }
    return {
        "entity": entity,
        "warnings": [],
        "errors": [error_item(DELETED_CODE, DELETED_MESSAGE)],
        "success": False,
    }
