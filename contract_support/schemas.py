"""Loading of the suite's JSON Schemas and validation with format checking.

Every ``*.schema.json`` file under ``schemas/`` is registered under its ``$id`` in a
``referencing.Registry``, so ``$ref`` between files resolves locally and never over the
network. Validators are built once per schema and cached, because building one costs far
more than using it.

``jsonschema`` is the reference validator and explains every error. Because it needs about
60 ms for a response of 100 customers, ``iter_errors`` first calls a compiled
``jsonschema-rs`` validator, given the same schemas and the same format functions, and
calls ``jsonschema`` only for instances that validator rejects.
"""

from __future__ import annotations

import copy
import functools
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import jsonschema
import jsonschema_rs
import referencing
import referencing.jsonschema

SCHEMA_DIRECTORY = pathlib.Path(__file__).resolve().parent.parent / "schemas"
BASE_URI = "https://get-customers-bulk.invalid/schemas/"

# The format checker of Draft 2020-12 checks "date-time" only when rfc3339-validator is
# importable, and silently passes every string otherwise. Fail loudly instead.
FORMAT_CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER
for _required_format in ("date-time", "email"):
    if _required_format not in FORMAT_CHECKER.checkers:
        raise ImportError(
            f"jsonschema cannot check the {_required_format!r} format; "
            "install the pinned requirements with: pip install -r requirements.txt"
        )


class SchemaLoadError(Exception):
    """A schema file is missing, is not JSON, or is not a valid JSON Schema."""


def _schema_files() -> Iterator[pathlib.Path]:
    return iter(sorted(SCHEMA_DIRECTORY.rglob("*.schema.json")))


@functools.cache
def registry() -> referencing.Registry:
    """Return a registry holding every schema file under its ``$id``."""
    resources = []
    for path in _schema_files():
        relative = path.relative_to(SCHEMA_DIRECTORY).as_posix()
        try:
            contents = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SchemaLoadError(f"{path}: invalid JSON: {error}") from None

        expected_id = BASE_URI + relative
        if contents.get("$id") != expected_id:
            raise SchemaLoadError(f"{path}: $id is {contents.get('$id')!r}, expected {expected_id!r}")
        jsonschema.Draft202012Validator.check_schema(contents)
        resources.append((expected_id, referencing.Resource.from_contents(contents)))
    return referencing.Registry().with_resources(resources).crawl()


def load_schema(name: str) -> dict[str, Any]:
    """Return a deep copy of the schema at ``name``, a path relative to ``schemas/``."""
    try:
        resource = registry().get_or_retrieve(BASE_URI + name).value
    except (referencing.exceptions.Unretrievable, referencing.exceptions.NoSuchResource):
        known = ", ".join(path.relative_to(SCHEMA_DIRECTORY).as_posix() for path in _schema_files())
        raise SchemaLoadError(f"schema {name!r} not found under {SCHEMA_DIRECTORY}; known: {known}") from None
    return copy.deepcopy(resource.contents)


@functools.cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """Return the cached validator, with format checking, for the schema at ``name``."""
    return validator_for_schema_json(json.dumps(load_schema(name), sort_keys=True))


@functools.cache
def validator_for_schema_json(schema_json: str) -> jsonschema.protocols.Validator:
    """Return a cached validator for a schema given as JSON text, resolving refs locally.

    Callers that change a schema at run time (the largest batch, say) pass its JSON text,
    which keeps the cache keyed by content.
    """
    schema = json.loads(schema_json)
    return jsonschema.Draft202012Validator(schema, registry=registry(), format_checker=FORMAT_CHECKER)


def json_path(error: jsonschema.ValidationError) -> str:
    """Return the JSON path of the instance that failed, such as ``$.data[0].entity.id``."""
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def schema_path(error: jsonschema.ValidationError) -> str:
    """Return the schema keyword path of a failure, such as ``properties/data/type``."""
    return "/".join(str(part) for part in error.absolute_schema_path)


@functools.cache
def fast_validator(name: str) -> jsonschema_rs.Validator:
    """Return the cached compiled validator for the schema at ``name``.

    It checks formats with the same functions as ``FORMAT_CHECKER``, so both validators
    agree on what a date-time or an email is.
    """
    resources = [(BASE_URI + path.relative_to(SCHEMA_DIRECTORY).as_posix(), load_schema(
        path.relative_to(SCHEMA_DIRECTORY).as_posix())) for path in _schema_files()]
    formats = {
        format_name: functools.partial(FORMAT_CHECKER.conforms, format=format_name)
        for format_name in ("date-time", "email")
    }
    return jsonschema_rs.Draft202012Validator(
        load_schema(name), registry=jsonschema_rs.Registry(resources), validate_formats=True, formats=formats,
    )


def iter_errors(name: str, instance: Any) -> list[jsonschema.ValidationError]:
    """Return every validation error of ``instance`` against the schema ``name``, deepest first."""
    if fast_validator(name).is_valid(instance):
        return []

    errors = list(validator(name).iter_errors(instance))
    if not errors:
        # The two validators disagree; report what the compiled one found rather than pass.
        errors = [
            jsonschema.ValidationError(
                f"{error.message} (found by jsonschema-rs only)",
                path=error.instance_path, schema_path=error.schema_path, instance=error.instance,
            )
            for error in fast_validator(name).iter_errors(instance)
        ]
    return sorted(errors, key=lambda error: (-len(error.absolute_path), json_path(error)))
