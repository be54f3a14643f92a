"""Hooks of the network modes: failures of the network or cluster, not of the contract.

Each mode counts every request the server receives and fails every Nth one,
so a client that retries a failed request gets through on the next attempt.
"""

from __future__ import annotations

import logging
import socket
import time

from flask import Request, Response

from .hooks import Counter, Hooks
from .responses import error_item, json_response

logger = logging.getLogger(__name__)


class _EveryNth(Hooks):
    every = 0

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self._requests = Counter()

    def intercept(self, request: Request) -> Response | None:
        if self._requests.next() % self.every != 0:
            return None
        return self.fail(request)

    def fail(self, request: Request) -> Response:
        raise NotImplementedError


class FlakyThrottle(_EveryNth):
    """Respond to every 4th request with 429 and `Retry-After: 1`."""

    every = 4

    def fail(self, request: Request) -> Response:
        body = {"warnings": [], "errors": [error_item(429, "Rate limit exceeded. Retry after 1 second.")]}
        return json_response(body, 429, {"Retry-After": "1"})


class Flaky503(_EveryNth):
    """Respond to every 3rd request with 503."""

    every = 3

    def fail(self, request: Request) -> Response:
        body = {"warnings": [], "errors": [error_item(503, "Service temporarily unavailable. Retry the request.")]}
        return json_response(body, 503)


class FlakyReset(_EveryNth):
    """Close the connection of every 4th request without sending a response."""

    every = 4

    def fail(self, request: Request) -> Response:
        connection = request.environ.get("werkzeug.socket")
        if connection is None:
            # Only werkzeug's development server exposes the socket.
            raise RuntimeError("flaky-reset needs werkzeug's server, which exposes werkzeug.socket")

        # After the shutdown, werkzeug fails to write the response below and
        # treats the request as a dropped connection.
        logger.info("Dropping the connection of %s %s", request.method, request.path)
        connection.shutdown(socket.SHUT_RDWR)
        return Response(b"", status=204)


class FlakySlow(Hooks):
    """Delay every response by 0.3 seconds."""

    delay_seconds = 0.3

    def intercept(self, request: Request) -> Response | None:
        time.sleep(self.delay_seconds)
        return None
