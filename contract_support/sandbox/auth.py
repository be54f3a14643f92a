"""Check Basic and OAuth credentials the way the vendor's API does.

Basic credentials are ``base64(username:md5hex(password))``. OAuth tokens come
from ``POST /v3/oauth/token/generate`` and are sent in the
``X-CAP-API-OAUTH-TOKEN`` header (``CAP-API-ACCESS-TOKEN`` is accepted too).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .settings import Credentials

TOKEN_HEADERS = ("X-CAP-API-OAUTH-TOKEN", "CAP-API-ACCESS-TOKEN")


@dataclass(frozen=True)
class AuthOutcome:
    """Result of checking a request's credentials.

    `reason` is "ok", "missing" (no credentials at all), "wrong-password"
    (known username, wrong password), "plain-password" (known username with
    the password itself in place of its MD5 digest) or "invalid" (anything else).
    """

    accepted: bool
    reason: str
    message: str


def md5_hex(password: str) -> str:
    """Return the lowercase hex MD5 digest of a password, as Basic credentials carry it."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def _equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


class TokenStore:
    """OAuth access tokens issued by this server, each valid for a fixed time."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._expiry_by_token: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        """Create a new random token and return it."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expiry_by_token[token] = time.monotonic() + self.ttl_seconds
        return token

    def status(self, token: str) -> str:
        """Return "valid", "expired" or "unknown" for a token."""
        with self._lock:
            expiry = self._expiry_by_token.get(token)
        if expiry is None:
            return "unknown"
        if time.monotonic() >= expiry:
            return "expired"
        return "valid"


def check_key_pair(key: object, secret: object, credentials: Credentials) -> bool:
    """Return whether an OAuth key and secret match the configured pair."""
    if not isinstance(key, str) or not isinstance(secret, str):
        return False
    key_matches = _equal(key, credentials.oauth_key)
    secret_matches = _equal(secret, credentials.oauth_secret)
    return key_matches and secret_matches


def authenticate(headers: Mapping[str, str], credentials: Credentials, tokens: TokenStore) -> AuthOutcome:
    """Check the OAuth token or Basic credentials of a request.

    A request with a token header is judged by its token alone.
    """
    for header in TOKEN_HEADERS:
        token = headers.get(header)
        if token is None:
            continue
        status = tokens.status(token)
        if status == "valid":
            return AuthOutcome(True, "ok", "")
        return AuthOutcome(False, "invalid", f"The OAuth token in {header} is {status}. Generate a new token.")

    authorization = headers.get("Authorization")
    if not authorization:
        return AuthOutcome(
            False, "missing", "Missing credentials. Send Basic credentials or an X-CAP-API-OAUTH-TOKEN header."
        )
    return _check_basic(authorization, credentials)


def _check_basic(authorization: str, credentials: Credentials) -> AuthOutcome:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return AuthOutcome(False, "invalid", f"Unsupported authorization scheme {scheme!r}. Use Basic.")

    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return AuthOutcome(False, "invalid", "Invalid Basic credentials: the value is not base64 of username:md5(password).")
    username, separator, password_digest = decoded.partition(":")
    if not separator:
        return AuthOutcome(False, "invalid", "Invalid Basic credentials: no ':' between username and password digest.")

    username_matches = _equal(username, credentials.username)
    digest_matches = _equal(password_digest.lower(), md5_hex(credentials.password))
    if username_matches and digest_matches:
        return AuthOutcome(True, "ok", "")
    if username_matches and _equal(password_digest, credentials.password):
        # Rejected with the same message as any wrong password. The separate
        # reason lets the plain-password-accepted fault accept exactly this mistake.
        return AuthOutcome(False, "plain-password", f"Invalid password for user {username!r}.")
    if username_matches:
        return AuthOutcome(False, "wrong-password", f"Invalid password for user {username!r}.")
    return AuthOutcome(False, "invalid", f"Unknown user {username!r}.")
