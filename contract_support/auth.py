"""Authentication for the vendor's API: Basic with an md5-hashed password, and OAuth tokens.

Basic sends ``Authorization: Basic base64(username:md5hex(password))``. OAuth exchanges a
key and secret at ``/v3/oauth/token/generate`` for a token with a time to live, sends it in
a configurable header, and renews it shortly before it expires.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import time

import requests
import requests.auth

from contract_support.client import InfrastructureError
from contract_support.config import ConfigError, Credentials, Environment

log = logging.getLogger(__name__)

DEFAULT_TOKEN_PATH = "/v3/oauth/token/generate"
DEFAULT_TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")


def md5_hex(password: str) -> str:
    return hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest()


def basic_header_value(username: str, password: str | None = None, password_md5: str | None = None) -> str:
    """Return the ``Authorization`` value for the vendor's Basic scheme.

    Pass either the plain ``password`` or its md5 hex digest as ``password_md5``.
    """
    if (password is None) == (password_md5 is None):
        raise ValueError("pass exactly one of password and password_md5")
    if password_md5 is not None and not _MD5_HEX.match(password_md5.lower()):
        raise ValueError("password_md5 must be 32 hexadecimal digits")

    digest = password_md5.lower() if password_md5 is not None else md5_hex(password)
    token = base64.b64encode(f"{username}:{digest}".encode("utf-8")).decode("ascii")
    return f"Basic {token}"


class VendorBasicAuth(requests.auth.AuthBase):
    """Basic authentication with the md5 digest of the password, as the vendor expects."""

    def __init__(self, username: str, password: str | None = None, password_md5: str | None = None):
        self.header_value = basic_header_value(username, password, password_md5)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.header_value
        return request


class TokenError(Exception):
    """The OAuth token endpoint rejected the key and secret, or its response could not be read."""


class OAuthTokenAuth(requests.auth.AuthBase):
    """Sends a cached OAuth token and renews it ``renew_before_seconds`` before it expires."""

    def __init__(
        self,
        base_url: str,
        key: str,
        secret: str,
        token_path: str = DEFAULT_TOKEN_PATH,
        header: str = DEFAULT_TOKEN_HEADER,
        renew_before_seconds: float = 30.0,
        timeout_seconds: float = 10.0,
        session: requests.Session | None = None,
    ):
        self.token_url = base_url.rstrip("/") + token_path
        self.header = header
        self.renew_before_seconds = renew_before_seconds
        self.timeout_seconds = timeout_seconds
        self._key = key
        self._secret = secret
        # Replaceable, so the token request can share the client's retrying session.
        self.session = session or requests.Session()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.tokens_generated = 0

    def token(self) -> str:
        """Return a token that is valid for at least ``renew_before_seconds``, generating one if needed."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at - self.renew_before_seconds:
                self._token, ttl_seconds = self._generate()
                self._expires_at = time.monotonic() + ttl_seconds
                self.tokens_generated += 1
                log.info("generated an OAuth token at %s, valid for %s s", self.token_url, ttl_seconds)
            return self._token

    def _generate(self) -> tuple[str, float]:
        try:
            response = self.session.post(
                self.token_url, json={"key": self._key, "secret": self._secret}, timeout=self.timeout_seconds
            )
        except requests.exceptions.RequestException as error:
            raise InfrastructureError(f"token request to {self.token_url} failed: {type(error).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise InfrastructureError(f"token request to {self.token_url} failed with HTTP {response.status_code}")
        if response.status_code != 200:
            raise TokenError(f"token request to {self.token_url} failed with HTTP {response.status_code}")

        try:
            data = response.json()["data"]
            return str(data["accessToken"]), float(data["ttlSeconds"])
        except (ValueError, KeyError, TypeError):
            raise TokenError(
                f"token response from {self.token_url} lacks data.accessToken and data.ttlSeconds"
            ) from None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self.token()
        return request


def build_auth(environment: Environment, credentials: Credentials) -> requests.auth.AuthBase | None:
    """Return the ``requests`` auth handler for the environment's auth type, or None for ``none``."""
    auth = environment.auth
    if auth["type"] == "basic":
        return VendorBasicAuth(credentials.username, credentials.password, credentials.password_md5)
    if auth["type"] == "oauth":
        if environment.base_url is None:
            raise ConfigError(f"{environment.path}: base_url is needed for OAuth token generation")
        return OAuthTokenAuth(
            environment.base_url,
            credentials.oauth_key,
            credentials.oauth_secret,
            token_path=auth.get("token_path", DEFAULT_TOKEN_PATH),
            header=auth.get("token_header", DEFAULT_TOKEN_HEADER),
            renew_before_seconds=auth.get("renew_before_seconds", 30.0),
            timeout_seconds=environment.limits.timeout_seconds,
        )
    return None
