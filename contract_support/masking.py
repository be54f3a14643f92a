"""Masking of personal data (names, emails, mobile numbers) in what reports show.

A masked value keeps its shape so a reader can still tell a name from an email or a phone
number: ``John`` becomes ``Jo**``, ``customer1@example.com`` becomes ``c********@e******.com``
and ``919000000001`` becomes ``91********01``. ``PiiMasker`` masks a JSON response by key and
by identifier type, and remembers each value it masked so that the same value is masked in
any other text too, such as a failure message or a URL. Checks never see masked data: only
report output goes through the masker.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from contract_support.redaction import Redactor

# JSON keys whose string value is a person's name, compared in lower case.
NAME_KEYS = frozenset({"firstname", "lastname", "middlename", "fullname", "name"})
EMAIL_KEYS = frozenset({"email", "emailid"})
MOBILE_KEYS = frozenset({"mobile", "mobileno", "phone", "phonenumber"})
# Identifier and communication-channel objects carry the kind in "type" and the value in "value".
TYPED_VALUE_KINDS = {"email": "email", "mobile": "mobile", "phone": "mobile"}

EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MASK_CHARACTER = "*"
# Shorter values are masked inside JSON but not searched for in free text, where a two-letter
# name would mask parts of ordinary words.
MIN_REMEMBERED_LENGTH = 3


def mask_name(name: str) -> str:
    """Keep the first two characters of a name (one if it is short) and star the rest."""
    kept = 2 if len(name) > 3 else 1
    return name[:kept] + MASK_CHARACTER * (len(name) - kept)


def mask_email(email: str) -> str:
    """Keep the first character of the local part and of the domain, and the top-level domain."""
    local, separator, domain = email.rpartition("@")
    if not separator:
        return mask_name(email)
    host, dot, top_level = domain.rpartition(".")
    if not dot:
        host, top_level = domain, ""
    masked_domain = host[:1] + MASK_CHARACTER * (len(host) - 1) + (f".{top_level}" if top_level else "")
    return local[:1] + MASK_CHARACTER * (len(local) - 1) + "@" + masked_domain


def mask_mobile(number: str) -> str:
    """Keep the first two and last two digits of a number longer than six digits, starring the rest."""
    if len(number) <= 6:
        return MASK_CHARACTER * len(number)
    return number[:2] + MASK_CHARACTER * (len(number) - 4) + number[-2:]


_MASKERS = {"name": mask_name, "email": mask_email, "mobile": mask_mobile}


class PiiMasker:
    """Masker of personal data in JSON bodies and in free text, safe to share between threads.

    ``text()`` masks every email address and every value that ``add()`` or ``json_value()``
    has seen, so a value masked in a response is masked in a failure message too.
    """

    def __init__(self, known: Iterable[tuple[str, str]] = ()):
        self._lock = threading.Lock()
        self._masked_by_value: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        for kind, value in known:
            self.add(kind, value)

    def add(self, kind: str, value: Any) -> str:
        """Remember ``value`` as personal data of ``kind`` (name, email or mobile) and return it masked."""
        if not isinstance(value, str) or not value:
            return value
        masked = _MASKERS[kind](value)
        if len(value) < MIN_REMEMBERED_LENGTH:
            return masked
        with self._lock:
            if value not in self._masked_by_value:
                self._masked_by_value[value] = masked
                # Compiled again on the next text() call, so learning a whole response costs one compile.
                self._pattern = None
        return masked

    def json_value(self, value: Any) -> Any:
        """Return a copy of parsed JSON with names, emails and mobile numbers masked."""
        if isinstance(value, list):
            return [self.json_value(item) for item in value]
        if isinstance(value, str):
            # Only the email pattern here: searching the remembered values in every string of a
            # large response would cost a regex compile per newly seen value.
            return EMAIL_PATTERN.sub(lambda match: mask_email(match.group(0)), value)
        if not isinstance(value, dict):
            return value

        kind = TYPED_VALUE_KINDS.get(str(value.get("type", "")).lower())
        masked = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if kind is not None and lowered == "value":
                masked[key] = self.add(kind, item)
            elif lowered in NAME_KEYS:
                masked[key] = self.add("name", item)
            elif lowered in EMAIL_KEYS:
                masked[key] = self.add("email", item)
            elif lowered in MOBILE_KEYS:
                masked[key] = self.add("mobile", item)
            else:
                masked[key] = self.json_value(item)
        return masked

    def body(self, text: str) -> str:
        """Return a response body with personal data masked; JSON keeps its structure."""
        try:
            parsed = json.loads(text)
        except ValueError:
            return self.text(text)
        return json.dumps(self.json_value(parsed), ensure_ascii=False)

    def learn(self, body: bytes | str) -> None:
        """Remember the personal data in a JSON response body without returning it."""
        try:
            self.json_value(json.loads(body))
        except ValueError:
            return

    def _known_values_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._masked_by_value:
                # The longest value first, so a value inside a longer one does not split it.
                ordered = sorted(self._masked_by_value, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(known) for known in ordered))
            return self._pattern

    def text(self, text: str) -> str:
        """Return ``text`` with every email address and every remembered value masked."""
        if not text:
            return text
        pattern = self._known_values_pattern()
        if pattern is not None:
            text = pattern.sub(lambda match: self._masked_by_value[match.group(0)], text)
        return EMAIL_PATTERN.sub(lambda match: mask_email(match.group(0)), text)


class MaskingRedactor:
    """A ``Redactor`` for report output that masks personal data after redacting secrets.

    It has the methods of ``Redactor`` that reports call. Secrets still go to the run's shared
    redactor, which the client keeps adding OAuth tokens to.
    """

    def __init__(self, redactor: Redactor, masker: PiiMasker):
        self.redactor = redactor
        self.masker = masker

    def add_secret(self, secret: str | None) -> None:
        self.redactor.add_secret(secret)

    def text(self, text: str) -> str:
        return self.masker.text(self.redactor.text(text))

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.masker.text(value) for name, value in self.redactor.headers(headers).items()}

    def json_value(self, value: Any) -> Any:
        return self.masker.json_value(self.redactor.json_value(value))

    def body(self, body: bytes | str | None) -> str:
        return self.masker.body(self.redactor.body(body)) if body else self.redactor.body(body)
