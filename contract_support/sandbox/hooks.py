"""Hook points through which a fault, variant or network mode changes the sandbox.

The app calls the hooks of one `Hooks` object, in this order, for each request:

1. `intercept` for every request, unknown paths included, before any view runs.
   A response it returns is sent as is.
2. `adjust_auth` on the outcome of the credential check.
3. `adjust_rules` on the request limits before the request is validated.
4. `before_lookup` once the batch of IDs is parsed.
5. `adjust_entity` for each customer found, then `adjust_result` for each result.
6. `adjust_results` on the list of results, then `adjust_envelope` on the body.
7. `adjust_response` on every response, errors included.

The base class changes nothing, so it is also the behaviour of the correct
server. A hook may raise `SandboxError` to send an error response instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Request, Response

from .auth import AuthOutcome
from .settings import SandboxSettings
from .store import CustomerStore, Lookup
from .validation import RequestRules

BULK_PATH = "/v2/bulk/getCustomers"


class Counter:
    """Thread-safe counter of events, starting at 1."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        """Count one more event and return its number."""
        with self._lock:
            self._value += 1
            return self._value


@dataclass
class Batch:
    """One validated Get Customers Bulk call, as the result hooks see it."""

    ids: list[int]
    call_number: int
    lookup: Lookup
    store: CustomerStore
    settings: SandboxSettings

    def has_unknown_id(self) -> bool:
        """Return whether any requested ID matches no customer."""
        return any(self.lookup.status_of(customer_id) == "not-found" for customer_id in self.ids)


class Hooks:
    """Behaviour of the correct server. Subclasses override the hooks they need."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings

    def intercept(self, request: Request) -> Response | None:
        return None

    def adjust_auth(self, outcome: AuthOutcome) -> AuthOutcome:
        return outcome

    def adjust_rules(self, rules: RequestRules) -> RequestRules:
        return rules

    def before_lookup(self, ids: list[int]) -> None:
        return None

    def adjust_entity(self, entity: dict, batch: Batch) -> dict:
        return entity

    def adjust_result(self, result: dict, customer_id: int, batch: Batch) -> dict:
        return result

    def adjust_results(self, results: list[dict], batch: Batch) -> list[dict]:
        return results

    def adjust_envelope(self, envelope: dict, batch: Batch) -> object:
        return envelope

    def adjust_response(self, response: Response, request: Request) -> Response:
        return response


def is_bulk_request(request: Request) -> bool:
    """Return whether a request targets the Get Customers Bulk path."""
    return request.path == BULK_PATH
