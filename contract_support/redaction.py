"""Redaction of secrets from everything the suite writes: reports, logs and curl commands.

Two layers work together. Headers and JSON keys whose names mark them as secret are
replaced whatever their value, and every secret value the run has seen (passwords, their md5
digests, OAuth keys, secrets and tokens, the Basic header) is replaced wherever it appears
in text, including inside URLs and bodies.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"

SECRET_HEADERS = frozenset(
    name.lower()
    for name in (
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-CAP-API-OAUTH-TOKEN",
        "CAP-API-ACCESS-TOKEN",
        "X-Api-Key",
    )
)
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|^key$|cookie|authorization)", re.IGNORECASE)
# Values shorter than this are too likely to occur by chance in ordinary text.
MIN_SECRET_LENGTH = 4


def is_secret_name(name: str) -> bool:
    """Return whether a header or JSON key name marks its value as secret."""
    return name.lower() in SECRET_HEADERS or bool(_SECRET_KEY.search(name))


class Redactor:
    """Replaces known secret values and secret-named fields with ``[REDACTED]``.

    Secrets can be added while the run goes on, as OAuth tokens are generated. The class is
    thread safe because the client and the report hooks share one instance.
    """

    def __init__(self, secrets: Iterable[str] = ()):
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str | None) -> None:
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            # The longest secret first, so a token is not half replaced by a shorter one inside it.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(value) for value in ordered))

    def text(self, text: str) -> str:
        """Return ``text`` with every known secret value replaced."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(REDACTED, text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return a copy of ``headers`` with secret headers replaced, keeping the auth scheme word."""
        redacted = {}
        for name, value in headers.items():
            if is_secret_name(name):
                scheme = value.split(" ", 1)[0] if name.lower() == "authorization" and " " in value else ""
                redacted[name] = f"{scheme} {REDACTED}".strip()
            else:
                redacted[name] = self.text(str(value))
        return redacted

    def json_value(self, value: Any) -> Any:
        """Return a copy of a parsed JSON value with secret-named keys and known secrets replaced."""
        if isinstance(value, dict):
            return {
                key: REDACTED if is_secret_name(str(key)) and item not in (None, "") else self.json_value(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.json_value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, body: bytes | str | None) -> str:
        """Return a request or response body as text, redacted; JSON keeps its structure."""
        if body is None:
            return ""
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        try:
            parsed = json.loads(text)
        except ValueError:
            return self.text(text)
        if isinstance(parsed, (dict, list)):
            return self.text(json.dumps(self.json_value(parsed), ensure_ascii=False))
        return self.text(text)
