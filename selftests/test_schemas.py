"""Self tests of schema loading, local reference resolution and format checking."""

import copy
import json
import pathlib

import jsonschema
import pytest
import requests

from contract_support import schemas
from contract_support.auth import VendorBasicAuth
from contract_support.sandbox.faults import FAULTS
from contract_support.sandbox.server import SandboxServer
from contract_support.sandbox.settings import Credentials

EXAMPLES = pathlib.Path(schemas.SCHEMA_DIRECTORY) / "examples"
ENVELOPE = "response/envelope.schema.json"
CREDENTIALS = Credentials("schema-tests", "schema-tests-password", "key", "secret")


def load_example(name):
    return json.loads((EXAMPLES / name).read_text())


def test_every_schema_file_is_registered_by_its_id():
    files = sorted(schemas.SCHEMA_DIRECTORY.rglob("*.schema.json"))

    for path in files:
        name = path.relative_to(schemas.SCHEMA_DIRECTORY).as_posix()
        assert schemas.load_schema(name)["$id"] == schemas.BASE_URI + name


def test_every_schema_is_valid_draft_2020_12():
    for path in schemas.SCHEMA_DIRECTORY.rglob("*.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


@pytest.mark.parametrize("example", ["documented-response.json", "failed-result-response.json"])
def test_documented_examples_validate(example):
    assert schemas.iter_errors(ENVELOPE, load_example(example)) == []


def test_bad_date_time_rejected():
    body = load_example("documented-response.json")
    body["data"][0]["entity"]["profiles"][0]["autoUpdateTime"] = "16/09/2024 11:59"

    errors = schemas.iter_errors(ENVELOPE, body)

    assert [schemas.json_path(error) for error in errors] == ["$.data[0].entity.profiles[0].autoUpdateTime"]
    assert errors[0].validator == "format"


def test_email_identifier_without_address_rejected():
    body = load_example("documented-response.json")
    body["data"][1]["entity"]["profiles"][0]["identifiers"][1]["value"] = "not-an-email"

    errors = schemas.iter_errors(ENVELOPE, body)

    assert [schemas.json_path(error) for error in errors] == ["$.data[1].entity.profiles[0].identifiers[1].value"]


def test_undocumented_fields_allowed():
    body = load_example("documented-response.json")
    body["data"][0]["entity"]["fraudDetails"] = {"status": "NONE"}
    body["data"][0]["entity"]["profiles"][0]["identifiers"][0]["cardSeries"] = "X"

    assert schemas.iter_errors(ENVELOPE, body) == []


@pytest.mark.parametrize(
    ("path", "value", "expected_path"),
    [
        (("data", 0, "entity", "id"), "382137011", "$.data[0].entity.id"),
        (("data", 0, "success"), "true", "$.data[0].success"),
        (("data", 0, "entity", "loyaltyInfo", "lifetimePurchases"), "2400.0", "$.data[0].entity.loyaltyInfo.lifetimePurchases"),
        (("data", 0, "errors"), [{"code": "x"}], "$.data[0].errors[0].code"),
    ],
    ids=["id-string", "success-string", "purchases-string", "error-item"],
)
def test_wrong_types_rejected_at_their_path(path, value, expected_path):
    body = copy.deepcopy(load_example("documented-response.json"))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    errors = schemas.iter_errors(ENVELOPE, body)

    assert [schemas.json_path(error) for error in errors][:1] == [expected_path]


def test_unknown_schema_name_lists_known_ones():
    with pytest.raises(schemas.SchemaLoadError, match="known: environment.schema.json"):
        schemas.load_schema("response/nothing.schema.json")


def test_request_body_schema_rejects_floats_and_empty():
    validator = schemas.validator("request/body.schema.json")

    assert validator.is_valid([1, 2])
    assert not validator.is_valid([])
    assert not validator.is_valid([1.5])
    assert not validator.is_valid([2**63])


@pytest.mark.parametrize(
    "mode", [None, *(name for name, fault in FAULTS.items() if fault.kind != "network")], ids=lambda mode: mode or "correct"
)
def test_compiled_and_reference_validators_agree(database, mode):
    with SandboxServer(CREDENTIALS, fault=mode, database_path=database) as server:
        response = requests.post(
            f"{server.base_url}/v2/bulk/getCustomers", json=[*range(400000001, 400000021), 999999001, 400000298],
            auth=VendorBasicAuth(CREDENTIALS.username, CREDENTIALS.password), timeout=10,
        )
    try:
        body = response.json()
    except ValueError:
        pytest.skip(f"mode {mode} answers with a body that is not JSON")

    for name in (ENVELOPE, "response/error-response.schema.json"):
        compiled = schemas.fast_validator(name).is_valid(body)
        reference = schemas.validator(name).is_valid(body)
        assert compiled == reference, f"{name}: jsonschema-rs says {compiled}, jsonschema says {reference} for {mode}"
