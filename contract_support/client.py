"""HTTP client for the Get Customers Bulk endpoint that records every call it makes.

One ``requests`` session serves the whole run. Throttling (429), gateway errors (502, 503,
504) and dropped connections are retried by urllib3's ``Retry``, honouring ``Retry-After``;
retrying the POST is safe because the endpoint only reads. When retries run out or a
timeout hits, the client raises ``InfrastructureError`` rather than an assertion, so the
report separates a network problem from a broken contract.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import requests
import requests.adapters
import urllib3.exceptions
import urllib3.util.retry

from contract_support.config import Environment
from contract_support.curl import curl_command
from contract_support.redaction import Redactor

log = logging.getLogger(__name__)

ENDPOINT = "/v2/bulk/getCustomers"
RETRY_STATUSES = (429, 502, 503, 504)
# Marks a query parameter or header that the call must leave out, defaults included.
OMIT = object()
_USE_SESSION_AUTH = object()


class InfrastructureError(Exception):
    """The target could not be reached or kept failing: a network or cluster problem, not a contract failure.

    The message starts with ``infrastructure:`` so reports can group these apart from contract failures.
    """

    def __init__(self, message: str):
        super().__init__(f"infrastructure: {message}")


def _is_infrastructure_error(excinfo: Any) -> bool:
    """Return whether pytest hides the client's frames: for an infrastructure error, whose message is complete."""
    return excinfo.errisinstance(InfrastructureError)


@dataclasses.dataclass
class RetryEvent:
    """One retry that urllib3 made before the final response."""

    reason: str
    status: int | None
    sleep_seconds: float


@dataclasses.dataclass
class ApiCall:
    """A request sent to the target and the response it got, as reports show them."""

    method: str
    url: str
    params: list[tuple[str, str]]
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    # Time of the final attempt alone, so a throttled call does not count its Retry-After wait
    # as latency. ``total_seconds`` includes the failed attempts and the waits between them.
    elapsed_seconds: float
    retries: list[RetryEvent] = dataclasses.field(default_factory=list)
    total_seconds: float | None = None
    sent_ids: Sequence[Any] | None = None
    # Why no response came (a refused connection, a timeout); status is then 0 and the body empty.
    error: str | None = None

    @property
    def full_url(self) -> str:
        return f"{self.url}?{urlencode(self.params)}" if self.params else self.url

    @property
    def content_type(self) -> str:
        return self.response_headers.get("Content-Type", "")

    def json(self) -> Any:
        """Return the parsed response body; raises ValueError when it is not JSON."""
        return json.loads(self.response_body)

    def curl(self, redactor: Redactor) -> str:
        return curl_command(self.method, self.full_url, self.request_headers, self.request_body, redactor)

    def summary(self) -> str:
        return f"{self.method} {self.full_url} -> {self.status} in {self.elapsed_seconds * 1000:.0f} ms"


class LoggingRetry(urllib3.util.retry.Retry):
    """urllib3 ``Retry`` that logs each retry and hands it to a callback for the report.

    ``on_resume`` runs when the wait before a retry ends, which is when the next attempt starts.
    """

    def __init__(
        self,
        *args: Any,
        on_retry: Callable[[RetryEvent], None] | None = None,
        on_resume: Callable[[], None] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.on_retry = on_retry
        self.on_resume = on_resume

    def new(self, **kwargs: Any) -> LoggingRetry:
        retry = super().new(**kwargs)
        retry.on_retry = self.on_retry
        retry.on_resume = self.on_resume
        return retry

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.on_resume is not None:
            self.on_resume()

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        status = response.status if response is not None else None
        reason = f"HTTP {status}" if status is not None else f"{type(error).__name__}: {error}"
        retry = super().increment(method, url, response, error, _pool, _stacktrace)

        # The same choice as Retry.sleep(): the Retry-After value when the response has one, else the backoff.
        retry_after = retry.get_retry_after(response) if response is not None and self.respect_retry_after_header else None
        sleep_seconds = retry_after if retry_after else retry.get_backoff_time()
        log.warning("retrying %s %s after %s (%d retries left)", method, url, reason, retry.total or 0)
        if self.on_retry is not None:
            self.on_retry(RetryEvent(reason, status, sleep_seconds))
        return retry


CallListener = Callable[[ApiCall], None]


class ApiClient:
    """Sends requests to one environment and passes every recorded call to its listeners."""

    def __init__(
        self,
        environment: Environment,
        auth: requests.auth.AuthBase | None,
        redactor: Redactor,
        before_request: Callable[[], None] | None = None,
    ):
        if environment.base_url is None:
            raise ValueError(f"environment {environment.name!r} has no base URL")
        self.environment = environment
        self.base_url = environment.base_url
        self.auth = auth
        self.redactor = redactor
        self.before_request = before_request
        self.listeners: list[CallListener] = []
        self.requests_sent = 0
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self.session = self._build_session()

    def _build_session(self) -> requests.Session:
        self.retry = self._build_retry()
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(max_retries=self.retry)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update({"Accept": "application/json", **self.environment.headers})
        return session

    def _build_retry(self) -> LoggingRetry:
        retries = self.environment.retries
        return LoggingRetry(
            total=int(retries["total"]),
            connect=int(retries["total"]),
            read=int(retries["total"]),
            status=int(retries["total"]),
            other=0,
            backoff_factor=float(retries["backoff_factor"]),
            backoff_max=float(retries["max_retry_after_seconds"]),
            # A larger Retry-After is cut to this many seconds rather than waited out in full.
            retry_after_max=int(retries["max_retry_after_seconds"]),
            status_forcelist=RETRY_STATUSES,
            # None retries every method: the POST only reads, so sending it again is safe.
            allowed_methods=None,
            respect_retry_after_header=True,
            raise_on_status=False,
            on_retry=self._record_retry,
            on_resume=self._start_attempt,
        )

    def _record_retry(self, event: RetryEvent) -> None:
        self._local.retries = [*getattr(self._local, "retries", []), event]
        with self._count_lock:
            self.requests_sent += 1

    def _start_attempt(self) -> None:
        self._local.attempt_started = time.perf_counter()

    def query(self, params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> list[tuple[str, str]]:
        """Merge ``params`` into the environment's default query.

        A value of ``OMIT`` drops a default, and a list value repeats the parameter.
        """
        merged: dict[str, Any] = dict(self.environment.query_defaults)
        items = params.items() if isinstance(params, Mapping) else (params or [])
        overrides: dict[str, Any] = {}
        for name, value in items:
            if name in overrides and value is not OMIT:
                previous = overrides[name]
                overrides[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                overrides[name] = value
        merged.update(overrides)

        pairs = []
        for name, value in merged.items():
            if value is OMIT:
                continue
            for item in value if isinstance(value, list) else [value]:
                pairs.append((name, str(item)))
        return pairs

    def get_customers(
        self,
        ids: Sequence[Any] | None = None,
        *,
        body: bytes | str | None = None,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        headers: Mapping[str, Any] | None = None,
        auth: Any = _USE_SESSION_AUTH,
        method: str = "POST",
        path: str = ENDPOINT,
    ) -> ApiCall:
        """Send a Get Customers Bulk request and return the recorded call.

        ``ids`` is sent as a JSON array; ``body`` sends raw text or bytes instead, for
        malformed requests. ``headers`` overrides the defaults, with ``OMIT`` dropping one.
        ``auth=None`` sends no credentials.
        """
        __tracebackhide__ = _is_infrastructure_error
        if body is None and ids is not None:
            body = json.dumps(list(ids))
        raw_body = body.encode("utf-8") if isinstance(body, str) else body

        request_headers: dict[str, Any] = {"Content-Type": "application/json"} if raw_body is not None else {}
        request_headers.update(headers or {})
        request_headers = {name: value for name, value in request_headers.items() if value is not OMIT}
        call = self.send(method, path, params=self.query(params), headers=request_headers, body=raw_body, auth=auth)
        call.sent_ids = list(ids) if ids is not None else None
        return call

    def send(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes | None,
        auth: Any = _USE_SESSION_AUTH,
    ) -> ApiCall:
        """Send one request through the retrying session and record it."""
        __tracebackhide__ = _is_infrastructure_error
        url = self.base_url + path
        request = requests.Request(
            method, url, params=params, headers=dict(headers), data=body,
            auth=self.auth if auth is _USE_SESSION_AUTH else auth,
        )
        prepared = self.session.prepare_request(request)
        if auth is None and not any(name.lower() == "authorization" for name in headers):
            # requests may still take credentials from ~/.netrc; a call without auth sends none,
            # unless the caller wrote the header itself.
            prepared.headers.pop("Authorization", None)
        self._add_auth_secrets(prepared)

        if self.before_request is not None:
            self.before_request()
        self._local.retries = []
        started = time.perf_counter()
        self._local.attempt_started = started
        try:
            response = self._send_with_body_retries(prepared, method, url)
        except InfrastructureError as error:
            # Record the call without a response too, so the report shows its curl and retries.
            failed = ApiCall(
                method=method, url=url, params=params, request_headers=dict(prepared.headers),
                request_body=body, status=0, response_headers={}, response_body=b"",
                elapsed_seconds=time.perf_counter() - self._local.attempt_started,
                retries=list(self._local.retries), total_seconds=time.perf_counter() - started,
                error=str(error),
            )
            for listener in self.listeners:
                listener(failed)
            raise
        finished = time.perf_counter()

        call = ApiCall(
            method=method,
            url=url,
            params=params,
            request_headers=dict(prepared.headers),
            request_body=body,
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=response.content,
            elapsed_seconds=finished - self._local.attempt_started,
            retries=list(self._local.retries),
            total_seconds=finished - started,
        )
        log.info("%s", self.redactor.text(call.summary()))
        for listener in self.listeners:
            listener(call)

        if response.status_code in RETRY_STATUSES:
            raise InfrastructureError(
                f"{self.redactor.text(call.summary())}: still HTTP {response.status_code} "
                f"after {len(call.retries)} retries"
            )
        return call

    def _send_with_body_retries(self, prepared: requests.PreparedRequest, method: str, url: str) -> requests.Response:
        """Send through the session, retrying also when the connection drops after the response headers.

        urllib3 retries only until the headers arrive; requests reads the body afterwards and
        raises ChunkedEncodingError when the connection drops mid-body. Such a drop is retried
        here with the same ``Retry`` settings, and it draws on the retries the call already used.
        """
        timeout = self.environment.limits.timeout_seconds
        while True:
            try:
                try:
                    return self.session.send(prepared, timeout=timeout)
                finally:
                    with self._count_lock:
                        self.requests_sent += 1
            except requests.exceptions.ChunkedEncodingError as error:
                used = len(self._local.retries)
                remaining = int(self.environment.retries["total"]) - used
                if remaining <= 0:
                    raise InfrastructureError(
                        f"{method} {url}: connection dropped while reading the response body, "
                        f"and {used} retries are used up: {self.redactor.text(str(error))}"
                    ) from None
                retry = self.retry.new(total=remaining, read=remaining)
                retry = retry.increment(method, url, error=urllib3.exceptions.ProtocolError(str(error)))
                retry.sleep()
            except requests.exceptions.RetryError as error:
                raise InfrastructureError(f"{method} {url}: retries exhausted: {error}") from None
            except requests.exceptions.Timeout:
                raise self._timeout_error(method, url) from None
            except requests.exceptions.ConnectionError as error:
                reason = getattr(error.args[0], "reason", None) if error.args else None
                if isinstance(reason, urllib3.exceptions.ReadTimeoutError):
                    # urllib3 retries read timeouts too; requests reports the last one as a ConnectionError.
                    raise self._timeout_error(method, url, len(self._local.retries)) from None
                raise InfrastructureError(f"{method} {url}: connection failed: {self.redactor.text(str(error))}") from None

    def _timeout_error(self, method: str, url: str, retries: int = 0) -> InfrastructureError:
        after_retries = f", also on {retries} retries" if retries else ""
        return InfrastructureError(
            f"{method} {url}: timed out after {self.environment.limits.timeout_seconds} s{after_retries} "
            "(limits.timeout_seconds in the environment file)"
        )

    def _add_auth_secrets(self, prepared: requests.PreparedRequest) -> None:
        for name, value in prepared.headers.items():
            if name.lower() in ("authorization", "x-cap-api-oauth-token", "cap-api-access-token"):
                self.redactor.add_secret(value)
                self.redactor.add_secret(value.split(" ", 1)[-1])
