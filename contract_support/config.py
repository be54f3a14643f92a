"""Environment files: loading, validation against their JSON Schema, and credentials.

An environment file in ``environments/`` describes one target of the suite. A missing file,
invalid YAML, a key of the wrong type or an unset credential variable raises ``ConfigError``.
Its message is a single line that names the file, the key or the variable, so the run can
stop before the first test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import re
from collections.abc import Mapping
from typing import Any

import yaml

from contract_support import schemas

ENVIRONMENT_DIRECTORY = pathlib.Path(__file__).resolve().parent.parent / "environments"

# Behaviour that the documented page leaves open, as the suite expects it by default.
# An environment file overrides any key under ``expectations``.
DEFAULT_EXPECTATIONS: dict[str, Any] = {
    "result_order": "request",
    "duplicate_ids": "each",
    "failed_result_has_entity": True,
    "not_found_codes": [8015, 816],
    "empty_list_status": [400],
    "over_batch_status": [400],
    "malformed_body_status": [400],
    "decimal_point_id_status": [400],
    "unknown_source_status": [400],
    "invalid_source_codes": [8003],
    "identifier_pair_status": [400],
    "wrong_content_type_status": [400, 415],
    "auth_failure_status": [401, 403],
    "unknown_path_status": [404],
    "wrong_method_status": [404, 405],
    "source_required": False,
}

DEFAULT_RETRIES = {"total": 3, "backoff_factor": 0.5, "max_retry_after_seconds": 30}


# jsonschema's messages for these keywords ("[1] is too short") leave out the limit itself.
_SIZE_LIMITS = {
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
}


class ConfigError(Exception):
    """An environment file or a credential is missing or invalid."""


@dataclasses.dataclass(frozen=True)
class Identifier:
    type: str
    value: str
    customer_id: int


@dataclasses.dataclass(frozen=True)
class ReferenceData:
    """Customer IDs and an identifier whose state in the target is known."""

    known_customer_ids: tuple[int, ...]
    unknown_customer_ids: tuple[int, ...]
    deleted_customer_ids: tuple[int, ...]
    identifier: Identifier
    scan_range: tuple[int, int] | None = None


@dataclasses.dataclass(frozen=True)
class Limits:
    requests_per_minute: int
    timeout_seconds: float
    max_batch: int
    latency_p95_ms: float | None


@dataclasses.dataclass(frozen=True)
class Environment:
    """A validated environment file, with its credentials not yet resolved."""

    name: str
    path: pathlib.Path
    base_url: str | None
    embedded_sandbox: bool
    production: bool
    mask_pii: bool
    auth: Mapping[str, Any]
    query_defaults: Mapping[str, str]
    headers: Mapping[str, str]
    supported_sources: tuple[str, ...]
    limits: Limits
    retries: Mapping[str, float]
    hypothesis: Mapping[str, int]
    test_data: ReferenceData
    expectations: Mapping[str, Any]

    def __repr__(self) -> str:
        # Short, because pytest and Hypothesis print it with every failing test.
        return f"Environment(name={self.name!r}, path={str(self.path)!r}, base_url={self.base_url!r})"

    def with_base_url(self, base_url: str) -> Environment:
        return dataclasses.replace(self, base_url=base_url.rstrip("/"))


def resolve_environment_path(name_or_path: str) -> pathlib.Path:
    """Return the file for ``--env``: a name in ``environments/`` or a path to a YAML file."""
    if name_or_path.endswith((".yaml", ".yml")) or os.sep in name_or_path:
        path = pathlib.Path(name_or_path)
        if not path.is_file():
            raise ConfigError(f"environment file not found: {path}")
        return path

    path = ENVIRONMENT_DIRECTORY / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in ENVIRONMENT_DIRECTORY.glob("*.yaml")))
        raise ConfigError(f"unknown environment {name_or_path!r}; choose one of: {known}, or pass a path to a YAML file")
    return path


def validate_base_url(base_url: str) -> None:
    """Raise ConfigError unless ``base_url`` is an http(s) URL with a host, as the environment schema requires."""
    pattern = schemas.load_schema("environment.schema.json")["properties"]["base_url"]["pattern"]
    if not re.match(pattern, base_url):
        raise ConfigError(f"--base-url {base_url!r} is not an http:// or https:// URL with a host, such as https://eu.api.capillarytech.com")


def load_environment(name_or_path: str) -> Environment:
    """Read, validate and return the environment named by ``--env``."""
    path = resolve_environment_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the environment file: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file; an environment file is YAML text") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None

    _validate_document(path, document)
    return _build_environment(path, document)


def _validate_document(path: pathlib.Path, document: Any) -> None:
    errors = schemas.iter_errors("environment.schema.json", document)
    if not errors:
        return

    # Report the deepest error: it names the key that is wrong rather than its parent.
    error = errors[0]
    key = schemas.json_path(error).removeprefix("$").removeprefix(".") or "(top level)"
    message = error.message
    if error.validator == "additionalProperties":
        message = message.replace("Additional properties are not allowed", "unknown key")
    elif error.validator in _SIZE_LIMITS:
        message += ": " + _SIZE_LIMITS[error.validator].format(error.validator_value)
    raise ConfigError(f"{path}: {key}: {message}")


def _build_environment(path: pathlib.Path, document: Mapping[str, Any]) -> Environment:
    limits = document["limits"]
    test_data = document["test_data"]
    identifier = test_data["identifier"]
    return Environment(
        name=document["name"],
        path=path,
        base_url=document.get("base_url", "").rstrip("/") or None,
        embedded_sandbox=document.get("embedded_sandbox", False),
        production=document["production"],
        mask_pii=document.get("mask_pii", document["production"]),
        auth=document["auth"],
        query_defaults=document.get("query_defaults", {}),
        headers=document.get("headers", {}),
        supported_sources=tuple(document.get("supported_sources", ())),
        limits=Limits(
            requests_per_minute=limits["requests_per_minute"],
            timeout_seconds=float(limits["timeout_seconds"]),
            max_batch=limits["max_batch"],
            latency_p95_ms=limits.get("latency_p95_ms"),
        ),
        retries={**DEFAULT_RETRIES, **document.get("retries", {})},
        hypothesis=document.get("hypothesis", {}),
        test_data=ReferenceData(
            known_customer_ids=tuple(test_data["known_customer_ids"]),
            unknown_customer_ids=tuple(test_data["unknown_customer_ids"]),
            deleted_customer_ids=tuple(test_data.get("deleted_customer_ids", ())),
            identifier=Identifier(identifier["type"], identifier["value"], identifier["customer_id"]),
            scan_range=(test_data["scan_range"]["first"], test_data["scan_range"]["count"])
            if "scan_range" in test_data
            else None,
        ),
        expectations={**DEFAULT_EXPECTATIONS, **document.get("expectations", {})},
    )


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Secrets read from the environment variables that the environment file names."""

    username: str | None = None
    # Kept out of repr, because pytest prints fixture values of a failing test.
    password: str | None = dataclasses.field(default=None, repr=False)
    password_md5: str | None = dataclasses.field(default=None, repr=False)
    oauth_key: str | None = dataclasses.field(default=None, repr=False)
    oauth_secret: str | None = dataclasses.field(default=None, repr=False)

    def secrets(self) -> list[str]:
        """Return every secret value, for redaction, the md5 digest of a plain password included."""
        digest = hashlib.md5(self.password.encode("utf-8"), usedforsecurity=False).hexdigest() if self.password else None
        values = [self.password, digest, self.password_md5, self.oauth_key, self.oauth_secret]
        return [value for value in values if value]


def read_credentials(environment: Environment, environ: Mapping[str, str] | None = None) -> Credentials:
    """Return the credentials of ``environment`` from environment variables.

    Raises ConfigError naming the first variable that is unset or empty.
    """
    environ = os.environ if environ is None else environ
    auth = environment.auth

    def variable(key: str) -> str:
        name = auth[key]
        value = environ.get(name, "")
        if not value:
            raise ConfigError(
                f"missing credential: environment variable {name} is not set "
                f"(named by auth.{key} in {environment.path}); export it and run again"
            )
        return value

    if auth["type"] == "basic":
        if "password_md5_variable" in auth:
            return Credentials(username=variable("username_variable"), password_md5=variable("password_md5_variable"))
        return Credentials(username=variable("username_variable"), password=variable("password_variable"))
    if auth["type"] == "oauth":
        return Credentials(oauth_key=variable("key_variable"), oauth_secret=variable("secret_variable"))
    return Credentials()


def credential_variables(environment: Environment) -> list[str]:
    """Return the names of the environment variables that hold this environment's secrets."""
    return [value for key, value in environment.auth.items() if key.endswith("_variable")]
