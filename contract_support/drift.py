"""Schema drift: fields that real responses carry but the response schemas do not document.

The schemas allow undocumented fields, so an addition to the API passes every contract check
unnoticed. This module walks each JSON response alongside its schema and collects the keys
that no ``properties``, ``patternProperties`` or ``additionalProperties`` schema documents,
under a normalised JSON path such as ``$.data[*].entity.fraudDetails``. Drift is reported as
a warning, never as a failure. A stored baseline of known paths lets a run tell which fields
are new since the baseline was written.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import pathlib
import re
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import referencing

from contract_support import schemas
from contract_support.client import ENDPOINT, ApiCall
from contract_support.redaction import REDACTED, Redactor

ENVELOPE_SCHEMA = "response/envelope.schema.json"
ERROR_SCHEMA = "response/error-response.schema.json"
# An example value is cut to this many characters of JSON, so a large object stays readable.
MAX_EXAMPLE_CHARS = 200
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


class SchemaDriftWarning(UserWarning):
    """A response carried a field that the response schemas do not document."""


class _Shape:
    """Documented keys and items at one place of a response, compiled from the schemas that apply there.

    Child shapes are compiled on first use and cached, so a ``$ref`` cycle costs nothing and a
    response walk after the first one only looks up dictionaries.
    """

    def __init__(self, subschemas: list[tuple[dict[str, Any], referencing.Resolver]], schema_file: str | None = None):
        # The schema file that documents this place, so a drift warning can name the file to add a field to.
        self.schema_file = next(
            (schema["$id"].removeprefix(schemas.BASE_URI) for schema, _ in subschemas if "$id" in schema), schema_file
        )
        self._properties: dict[str, list[tuple[Any, referencing.Resolver]]] = {}
        self._patterns: list[tuple[re.Pattern[str], Any, referencing.Resolver]] = []
        self._additional: list[tuple[Any, referencing.Resolver]] = []
        self._items: list[tuple[Any, referencing.Resolver]] = []
        self._children: dict[str, _Shape | None] = {}
        self._items_shape: _Shape | None = None
        for schema, resolver in subschemas:
            for name, subschema in (schema.get("properties") or {}).items():
                self._properties.setdefault(name, []).append((subschema, resolver))
            for pattern, subschema in (schema.get("patternProperties") or {}).items():
                self._patterns.append((re.compile(pattern), subschema, resolver))
            if isinstance(schema.get("additionalProperties"), dict):
                self._additional.append((schema["additionalProperties"], resolver))
            if isinstance(schema.get("items"), dict):
                self._items.append((schema["items"], resolver))
        # An object schema that names no key is free-form (``"type": "object"``), so any key is documented.
        self.free_form = not (self._properties or self._patterns or self._additional)

    def child(self, key: str) -> _Shape | None:
        """Return the shape documented for ``key``, or None when no schema documents it."""
        if key in self._children:
            return self._children[key]
        sources = list(self._properties.get(key, []))
        sources += [(subschema, resolver) for pattern, subschema, resolver in self._patterns if pattern.search(key)]
        if not sources:
            sources = list(self._additional)
        if sources:
            shape: _Shape | None = _compile(sources, self.schema_file)
        elif self.free_form:
            shape = _FREE_FORM
        else:
            shape = None
        self._children[key] = shape
        return shape

    def items(self) -> _Shape:
        if self._items_shape is None:
            self._items_shape = _compile(self._items, self.schema_file) if self._items else _FREE_FORM
        return self._items_shape


def _collect(schema: Any, resolver: referencing.Resolver, into: list[tuple[dict[str, Any], referencing.Resolver]]) -> None:
    """Gather a schema and every subschema that applies at the same place: $ref, allOf, anyOf, oneOf, if/then/else."""
    if not isinstance(schema, dict):
        return
    into.append((schema, resolver))
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        _collect(resolved.contents, resolved.resolver, into)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for subschema in schema.get(keyword) or []:
            _collect(subschema, resolver, into)
    for keyword in ("if", "then", "else"):
        _collect(schema.get(keyword), resolver, into)


def _compile(sources: list[tuple[Any, referencing.Resolver]], schema_file: str | None = None) -> _Shape:
    subschemas: list[tuple[dict[str, Any], referencing.Resolver]] = []
    for schema, resolver in sources:
        _collect(schema, resolver, subschemas)
    return _Shape(subschemas, schema_file)


_FREE_FORM = _Shape([])


@functools.cache
def _root_shape(schema_name: str) -> _Shape:
    resolved = schemas.registry().resolver().lookup(schemas.BASE_URI + schema_name)
    return _compile([(resolved.contents, resolved.resolver)])


# Paths repeat in every result of a batch, so building each one once saves most of the walk's string work.
@functools.lru_cache(maxsize=8192)
def _child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def undocumented_fields(instance: Any, schema_name: str) -> Iterator[tuple[str, Any, str]]:
    """Yield the normalised JSON path, the value and the parent's schema file of every key that ``schema_name`` does not document.

    Array indices become ``[*]``, so one path stands for the field in every result. The walk
    does not enter an undocumented value, because its insides are part of the same addition.
    """
    stack: list[tuple[Any, _Shape, str]] = [(instance, _root_shape(schema_name), "$")]
    while stack:
        value, shape, path = stack.pop()
        if isinstance(value, dict):
            if shape.free_form:
                continue
            for key, item in value.items():
                child = shape.child(str(key))
                if child is None:
                    yield _child_path(path, str(key)), item, shape.schema_file or schema_name
                else:
                    stack.append((item, child, _child_path(path, str(key))))
        elif isinstance(value, list):
            item_shape = shape.items()
            stack.extend((item, item_shape, f"{path}[*]") for item in reversed(value))


def mask_value(value: Any) -> Any:
    """Return ``value`` with personal data hidden but its structure kept.

    Strings keep their first character and length (``"j*****"``), numbers become ``"<number>"``,
    and booleans, null and ``[REDACTED]`` stay, since they identify no person.
    """
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    if isinstance(value, bool) or value is None or value == REDACTED:
        return value
    if isinstance(value, (int, float)):
        return "<number>"
    text = str(value)
    return text[:1] + "*" * (len(text) - 1)


def schema_for_call(call: ApiCall) -> str | None:
    """Return the response schema that documents ``call``'s body, or None for a body no schema covers."""
    if "json" not in call.content_type.lower():
        return None
    if call.status == 200 and call.url.endswith(ENDPOINT):
        return ENVELOPE_SCHEMA
    if call.status >= 400:
        return ERROR_SCHEMA
    return None


@dataclasses.dataclass
class DriftField:
    """An undocumented field seen during the run."""

    path: str
    schema: str  # the schema file that documents the field's parent object
    example: str
    first_test: str
    responses: int = 0


class SchemaDrift:
    """Collects undocumented response fields over a run and compares them with a baseline."""

    def __init__(self, redactor: Redactor, mask_pii: bool, baseline_path: pathlib.Path | None = None):
        self.redactor = redactor
        self.mask_pii = mask_pii
        self.baseline_path = baseline_path
        self.baseline: set[str] | None = None
        self.fields: dict[str, DriftField] = {}
        self._lock = threading.Lock()
        if baseline_path is not None and baseline_path.is_file():
            self.baseline = load_baseline(baseline_path)

    def example(self, value: Any) -> str:
        shown = self.redactor.json_value(value)
        if self.mask_pii:
            shown = mask_value(shown)
        text = self.redactor.text(json.dumps(shown, ensure_ascii=False))
        return text if len(text) <= MAX_EXAMPLE_CHARS else text[:MAX_EXAMPLE_CHARS] + " ..."

    def is_new(self, path: str) -> bool:
        """Return whether ``path`` is missing from the baseline; every path is new without one."""
        return self.baseline is None or path not in self.baseline

    def observe(self, call: ApiCall, test_id: str) -> list[DriftField]:
        """Record the undocumented fields of one response; returns those seen for the first time in this run."""
        schema_name = schema_for_call(call)
        if schema_name is None:
            return []
        try:
            body = call.json()
        except ValueError:
            return []

        seen: dict[str, tuple[Any, str]] = {}
        for path, value, schema_file in undocumented_fields(body, schema_name):
            seen.setdefault(path, (value, schema_file))
        first_seen = []
        with self._lock:
            for path, (value, schema_file) in seen.items():
                field = self.fields.get(path)
                if field is None:
                    field = self.fields[path] = DriftField(path, schema_file, self.example(value), test_id)
                    first_seen.append(field)
                field.responses += 1
        return first_seen

    def warn(self, field: DriftField) -> None:
        """Issue a ``SchemaDriftWarning`` for a field, which pytest lists under the test that met it."""
        if self.baseline is None:
            status = "no baseline to compare with"
        else:
            status = "new since the baseline" if self.is_new(field.path) else "already in the baseline"
        warnings.warn(
            SchemaDriftWarning(
                f"undocumented response field {field.path} ({status}), example value {field.example}; "
                f"document it in schemas/{field.schema} or ask the API owner about it"
            ),
            stacklevel=2,
        )

    def merge(self, fields: list[dict[str, Any]]) -> None:
        """Add fields that another process observed, given as ``dataclasses.asdict`` of DriftField."""
        with self._lock:
            for data in fields:
                field = self.fields.get(data["path"])
                if field is None:
                    self.fields[data["path"]] = DriftField(**data)
                else:
                    field.responses += data["responses"]

    def new_fields(self) -> list[DriftField]:
        return [field for path, field in sorted(self.fields.items()) if self.is_new(path)]

    def report(self) -> dict[str, Any]:
        """Return the run's drift report: every undocumented field, marked new or known, and baseline paths not seen."""
        fields = [
            {**dataclasses.asdict(field), "new": self.is_new(path)}
            for path, field in sorted(self.fields.items())
        ]
        return {
            "baseline": str(self.baseline_path) if self.baseline is not None else None,
            "undocumented_fields": fields,
            "new_paths": [field.path for field in self.new_fields()],
            "baseline_paths_not_seen": sorted((self.baseline or set()) - set(self.fields)),
        }

    def write_baseline(self, path: pathlib.Path) -> None:
        """Store the paths seen in this run, with their examples, as the baseline for later runs."""
        document = {
            "written": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "undocumented_fields": {
                field.path: {"schema": field.schema, "example": field.example}
                for _, field in sorted(self.fields.items())
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_baseline(path: pathlib.Path) -> set[str]:
    """Read the JSON paths stored in a drift baseline file; raises ValueError naming the file when it is invalid."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        fields = document["undocumented_fields"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path}: invalid schema drift baseline ({type(error).__name__}: {error}); "
            "delete it or write a new one with --update-drift-baseline"
        ) from None
    if not isinstance(fields, dict):
        raise ValueError(f"{path}: invalid schema drift baseline: undocumented_fields must be an object of JSON paths")
    return set(fields)
