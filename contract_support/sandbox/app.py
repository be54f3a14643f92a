"""Flask app of the sandbox: the documented Get Customers Bulk contract over the synthetic database.

Routes are ``POST /v2/bulk/getCustomers`` and ``POST /v3/oauth/token/generate``.
Every response other than 200 carries the JSON error body
``{"warnings": [], "errors": [{"status": false, "code": ..., "message": ...}]}``.
A fault, variant or network mode changes the responses only through the hooks
of `hooks.Hooks`, called at the points listed there.
"""

from __future__ import annotations

import collections
import copy
import logging
import os
from dataclasses import dataclass, field

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .auth import TokenStore, authenticate, check_key_pair
from .faults import build_hooks
from .hooks import BULK_PATH, Batch, Counter, Hooks
from .responses import (
    SandboxError,
    deleted_result,
    error_response,
    found_result,
    json_response,
    not_found_result,
)
from .settings import Credentials, SandboxSettings
from .store import CustomerStore
from .validation import check_content_type, default_rules, parse_body, parse_query

logger = logging.getLogger(__name__)

TOKEN_PATH = "/v3/oauth/token/generate"
MAX_BODY_BYTES = 1024 * 1024
AUTHENTICATE_HEADER = {"WWW-Authenticate": 'Basic realm="sandbox"'}


@dataclass
class SandboxState:
    """Everything one sandbox app shares between its requests."""

    store: CustomerStore
    credentials: Credentials
    settings: SandboxSettings
    fault: str | None
    hooks: Hooks
    tokens: TokenStore
    bulk_calls: Counter = field(default_factory=Counter)
    handler_errors: list[BaseException] = field(default_factory=list)


def sandbox_state(app: Flask) -> SandboxState:
    """Return the state of an app made by `create_app`."""
    return app.extensions["sandbox"]


def create_app(
    database_path: str | os.PathLike,
    credentials: Credentials,
    fault: str | None = None,
    settings: SandboxSettings | None = None,
) -> Flask:
    """Create the sandbox app serving `database_path`, optionally playing the named fault.

    Raises ValueError for a fault name that is not in `faults.FAULTS`, and
    FileNotFoundError when the database does not exist.
    """
    settings = settings or SandboxSettings()
    state = SandboxState(
        store=CustomerStore(database_path),
        credentials=credentials,
        settings=settings,
        fault=fault,
        hooks=build_hooks(fault, settings),
        tokens=TokenStore(settings.token_ttl_seconds),
    )

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["sandbox"] = state

    _register_routes(app, state)
    _register_error_handlers(app, state)
    return app


def _register_routes(app: Flask, state: SandboxState) -> None:
    hooks = state.hooks

    @app.before_request
    def intercept() -> Response | None:
        return hooks.intercept(request)

    @app.post(TOKEN_PATH, provide_automatic_options=False)
    def generate_token() -> Response:
        payload = request.get_json(force=True, silent=True)
        if not isinstance(payload, dict):
            raise SandboxError(400, 400, 'Invalid request body. Send a JSON object {"key": ..., "secret": ...}.')
        if not check_key_pair(payload.get("key"), payload.get("secret"), state.credentials):
            raise SandboxError(401, 401, "Invalid OAuth key or secret.")

        token = state.tokens.issue()
        body = {"data": {"accessToken": token, "ttlSeconds": state.settings.token_ttl_seconds}, "errors": None}
        return json_response(body)

    @app.post(BULK_PATH, provide_automatic_options=False)
    def get_customers_bulk() -> Response:
        outcome = hooks.adjust_auth(authenticate(request.headers, state.credentials, state.tokens))
        if not outcome.accepted:
            raise SandboxError(401, 401, outcome.message, AUTHENTICATE_HEADER)

        rules = hooks.adjust_rules(default_rules(state.settings))
        parse_query(request.args, rules)
        check_content_type(request.mimetype, request.headers.get("Content-Type"), rules)
        ids = parse_body(request.get_data(cache=False), rules)

        hooks.before_lookup(ids)
        batch = Batch(
            ids=ids,
            call_number=state.bulk_calls.next(),
            lookup=state.store.lookup(ids),
            store=state.store,
            settings=state.settings,
        )
        results = hooks.adjust_results(_build_results(batch, hooks), batch)
        envelope = hooks.adjust_envelope({"data": results, "warnings": [], "errors": []}, batch)
        return json_response(envelope)

    @app.after_request
    def finish(response: Response) -> Response:
        response = hooks.adjust_response(response, request)
        logger.info("%s %s %d", request.method, request.path, response.status_code)
        return response


def _build_results(batch: Batch, hooks: Hooks) -> list[dict]:
    """Build one result per requested ID, in request order, duplicates included."""
    results = []
    occurrences = collections.Counter(batch.ids)
    for customer_id in batch.ids:
        status = batch.lookup.status_of(customer_id)
        if status == "found":
            entity = batch.lookup.entities[customer_id]
            # Hooks may change an entity in place, so each occurrence of a
            # repeated ID gets its own copy of the entity as stored.
            if occurrences[customer_id] > 1:
                entity = copy.deepcopy(entity)
            result = found_result(hooks.adjust_entity(entity, batch))
        elif status == "deleted":
            result = deleted_result(customer_id)
        else:
            result = not_found_result(customer_id)
        results.append(hooks.adjust_result(result, customer_id, batch))
    return results


def _register_error_handlers(app: Flask, state: SandboxState) -> None:
    @app.errorhandler(SandboxError)
    def handle_sandbox_error(error: SandboxError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        headers = {}
        if status == 404:
            message = f"Unknown path {request.path}. This server serves POST {BULK_PATH} and POST {TOKEN_PATH}."
        elif status == 405:
            message = f"Method {request.method} is not allowed on {request.path}. Use POST."
            headers["Allow"] = "POST"
        elif status == 413:
            message = f"The request body is larger than {MAX_BODY_BYTES} bytes."
        else:
            message = f"{error.name}: {error.description}"
        return error_response(SandboxError(status, status, message, headers))

    @app.errorhandler(Exception)
    def handle_unexpected_error(error: Exception) -> Response:
        # A bug in the sandbox must not pass for a deliberate 500, so it is
        # logged with its traceback and kept for the caller to inspect.
        logger.exception("Unexpected error in %s %s (fault %s)", request.method, request.path, state.fault)
        state.handler_errors.append(error)
        return error_response(SandboxError(500, 500, f"UNEXPECTED_ERROR: {type(error).__name__}: {error}"))
