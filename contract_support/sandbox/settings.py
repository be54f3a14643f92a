"""Credentials and tunable limits of the embedded sandbox server."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_SUPPORTED_SOURCES: tuple[str, ...] = (
    "INSTORE",
    "MARTJACK",
    "WECHAT",
    "LINE",
    "ALL",
    "FACEBOOK",
    "WEB_ENGAGE",
    "TMALL",
    "TAOBAO",
    "JD",
    "ECOMMERCE",
    "WEBSITE",
    "MOBILE_APP",
    # The vendor's sample cURL for the bulk endpoint sends source=WHATSAPP.
    "WHATSAPP",
)


@dataclass(frozen=True)
class Credentials:
    """Accepted credentials: a Basic username and plain password, and an OAuth key pair."""

    username: str
    password: str
    oauth_key: str
    oauth_secret: str

    def __repr__(self) -> str:
        # Keep secrets out of logs and test reports.
        return f"Credentials(username={self.username!r}, oauth_key={self.oauth_key!r}, ...)"


@dataclass(frozen=True)
class SandboxSettings:
    """Limits and timings of the sandbox, and of the faults that depend on them."""

    max_batch: int = 100
    token_ttl_seconds: float = 300
    intermittent_every: int = 5
    slow_batch_threshold: int = 20
    slow_seconds: float = 1.5
    supported_sources: tuple[str, ...] = field(default=DEFAULT_SUPPORTED_SOURCES)
