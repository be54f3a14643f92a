"""Self tests of the correct sandbox server: data set, validation, authentication and CLI.

Each test talks HTTP with `requests` to a real `SandboxServer` on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from contract_support.sandbox import (
    FAULTS,
    Credentials,
    SandboxServer,
    SandboxSettings,
    build_database,
    fault_names,
)
from contract_support.sandbox.app import sandbox_state

CREDENTIALS = Credentials("store.server", "server123", "sandbox-key", "sandbox-secret")
# The vendor's worked example for username store.server and password server123.
VENDOR_BASIC_HEADER = "Basic c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3"
BULK_PATH = "/v2/bulk/getCustomers"
TOKEN_PATH = "/v3/oauth/token/generate"
TOKEN_TTL_SECONDS = 1

UNKNOWN_IDS = [999999001, 999999002, 999999003]
DELETED_IDS = [400000297, 400000298, 400000299, 400000300]
ENTITY_KEYS = ["id", "profiles", "loyaltyInfo", "segments", "associatedWith", "extendedFields", "cardDetails"]
PROFILE_KEYS = [
    "firstName",
    "lastName",
    "fields",
    "allFields",
    "identifiers",
    "commChannels",
    "source",
    "userId",
    "accountId",
    "conflictingProfileList",
    "autoUpdateTime",
    "identifiersAll",
]
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def basic_header(username: str, password: str) -> str:
    digest = hashlib.md5(password.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{username}:{digest}".encode()).decode()


def post_bulk(server: SandboxServer, body: object = None, *, data: str | bytes | None = None, params=None, headers=None):
    """POST to the bulk endpoint with Basic credentials. `body` is sent as JSON unless `data` is given."""
    sent_headers = {"Authorization": VENDOR_BASIC_HEADER, "Content-Type": "application/json"}
    sent_headers.update(headers or {})
    if data is None:
        data = json.dumps(body)
    return requests.post(server.base_url + BULK_PATH, data=data, params=params, headers=sent_headers, timeout=10)


def assert_error_body(response: requests.Response, status: int) -> dict:
    """Check the JSON error body shared by every non-200 response and return its single error item."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["warnings"] == []
    assert len(body["errors"]) == 1
    item = body["errors"][0]
    assert item["status"] is False
    assert type(item["code"]) is int
    assert isinstance(item["message"], str) and item["message"]
    return item


@pytest.fixture(scope="module")
def server(database):
    settings = SandboxSettings(token_ttl_seconds=TOKEN_TTL_SECONDS)
    with SandboxServer(CREDENTIALS, settings=settings, database_path=database) as running:
        yield running


@pytest.fixture(autouse=True)
def no_handler_errors(request):
    yield
    if "server" in request.fixturenames:
        server = request.getfixturevalue("server")
        assert server.handler_errors == []


# Data set.


def test_builds_are_identical(tmp_path):
    first = tmp_path / "first.sqlite3"
    second = tmp_path / "second.sqlite3"
    build_database(first)
    build_database(second)

    dumps = []
    for path in (first, second):
        connection = sqlite3.connect(path)
        dumps.append(list(connection.iterdump()))
        connection.close()
    assert dumps[0] == dumps[1]

    ids = list(range(400000001, 400000101))
    bodies = []
    for path in (first, second):
        with SandboxServer(CREDENTIALS, database_path=path) as running:
            bodies.append(post_bulk(running, ids).content)
    assert bodies[0] == bodies[1]


def test_server_without_database_path(tmp_path):
    with SandboxServer(CREDENTIALS) as running:
        temporary_directory = Path(running._temporary_directory)
        assert temporary_directory.is_dir()
        response = post_bulk(running, [400000001])
        assert response.status_code == 200
    assert not temporary_directory.exists()


def test_vendor_basic_header_matches_md5():
    assert basic_header("store.server", "server123") == VENDOR_BASIC_HEADER


def test_all_fixed_ids_exist(server):
    for start in range(400000001, 400000301, 100):
        ids = list(range(start, start + 100))
        data = post_bulk(server, ids).json()["data"]
        for customer_id, result in zip(ids, data):
            assert result["entity"]["id"] == customer_id
            if customer_id in DELETED_IDS:
                assert result["success"] is False
            else:
                assert result["success"] is True, customer_id
                assert result["errors"] == []


def test_ids_outside_range_unknown(server):
    ids = [400000000, 400000301, 1, *UNKNOWN_IDS]
    data = post_bulk(server, ids).json()["data"]
    for customer_id, result in zip(ids, data):
        assert result == {
            "entity": {"id": customer_id},
            "warnings": [],
            "errors": [{"status": False, "code": 8015, "message": "Customer not found for given identifiers"}],
            "success": False,
        }


def test_deleted_customers_reduced(server):
    data = post_bulk(server, DELETED_IDS).json()["data"]
    for customer_id, result in zip(DELETED_IDS, data):
        assert result == {
            "entity": {
                "id": customer_id,
                "profiles": [],
                "loyaltyInfo": {"loyaltyType": "loyalty"},
                "segments": {},
                "extendedFields": {},
            },
            "warnings": [],
            "errors": [{"status": False, "code": 8109, "message": "Customer is deleted after PII delete request"}],
            "success": False,
        }


def test_first_customer_identifiers(server):
    entity = post_bulk(server, [400000001]).json()["data"][0]["entity"]
    identifiers = entity["profiles"][0]["identifiers"]
    assert {"type": "mobile", "value": "919000000001"} in identifiers
    assert {"type": "email", "value": "customer400000001@example.com"} in identifiers
    assert {"type": "externalId", "value": "EXT-400000001"} in identifiers


def test_identifier_formula(server):
    ids = [400000002, 400000150, 400000296]
    data = post_bulk(server, ids).json()["data"]
    for customer_id, result in zip(ids, data):
        identifiers = result["entity"]["profiles"][0]["identifiers"]
        assert {"type": "mobile", "value": "919" + f"{customer_id - 400000000:09d}"} in identifiers
        assert {"type": "email", "value": f"customer{customer_id}@example.com"} in identifiers
        assert {"type": "externalId", "value": f"EXT-{customer_id}"} in identifiers


def test_entity_shape_and_variety(server):
    ids = [customer_id for customer_id in range(400000001, 400000297)]
    entities = []
    for start in range(0, len(ids), 100):
        data = post_bulk(server, ids[start : start + 100]).json()["data"]
        entities.extend(result["entity"] for result in data)

    for entity in entities:
        assert list(entity) == ENTITY_KEYS
        assert entity["loyaltyInfo"]["loyaltyType"] == "loyalty"
        assert type(entity["loyaltyInfo"]["lifetimePurchases"]) is float
        assert entity["associatedWith"].startswith("sandbox.till")
        for profile in entity["profiles"]:
            assert list(profile) == PROFILE_KEYS
            assert profile["userId"] == entity["id"]
            assert profile["firstName"] == "Sandbox"
            assert profile["lastName"] == f"Customer{entity['id'] - 400000000:04d}"
            assert profile["fields"]["gender"] in {"MALE", "FEMALE", "OTHER"}
            assert profile["source"] in {"INSTORE", "WECHAT"}
            assert isinstance(profile["accountId"], str)
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", profile["autoUpdateTime"])
            for channel in profile["commChannels"]:
                assert channel["type"] in {"email", "mobile"}
                assert set(channel["meta"]) == {"residence", "office"}
                assert channel["attributes"] == {}

    purchases = [entity["loyaltyInfo"]["lifetimePurchases"] for entity in entities]
    assert any(amount == 0.0 for amount in purchases)
    assert any(amount > 0 and amount.is_integer() for amount in purchases)
    assert any(not amount.is_integer() for amount in purchases)
    assert any(len(entity["profiles"]) == 2 for entity in entities)
    assert any(entity["cardDetails"] for entity in entities)
    assert any(entity["segments"] for entity in entities)
    assert any(entity["extendedFields"] for entity in entities)
    assert any(profile["commChannels"] for entity in entities for profile in entity["profiles"])
    assert any(not profile["commChannels"] for entity in entities for profile in entity["profiles"])


def test_fixed_purchase_amounts(server):
    data = post_bulk(server, [400000001, 400000002, 400000003]).json()["data"]
    purchases = [result["entity"]["loyaltyInfo"]["lifetimePurchases"] for result in data]
    assert purchases == [2400.0, 0.0, 1234.56]
    assert '"lifetimePurchases":2400.0' in post_bulk(server, [400000001]).text


# Results.


def test_order_and_duplicates_kept(server):
    ids = [400000003, 400000001, 999999001, 400000001, 400000297, 400000003]
    response = post_bulk(server, ids)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["data", "warnings", "errors"]
    assert body["warnings"] == []
    assert body["errors"] == []
    assert [result["entity"]["id"] for result in body["data"]] == ids
    assert [result["success"] for result in body["data"]] == [True, True, False, True, False, True]
    assert body["data"][1] == body["data"][3]


def test_identical_requests_identical_bodies(server):
    ids = list(range(400000001, 400000051))
    assert post_bulk(server, ids).content == post_bulk(server, ids).content


def test_result_independent_of_batch(server):
    alone = post_bulk(server, [400000010]).json()["data"][0]
    in_batch = post_bulk(server, [400000011, 400000010, 999999001]).json()["data"][1]
    assert alone == in_batch


def test_max_batch_accepted(server):
    ids = list(range(400000101, 400000201))
    response = post_bulk(server, ids)
    assert response.status_code == 200
    assert len(response.json()["data"]) == 100


def test_hundred_ids_fast(server):
    ids = list(range(400000001, 400000101))
    session = requests.Session()
    headers = {"Authorization": VENDOR_BASIC_HEADER, "Content-Type": "application/json"}
    durations = []
    for _ in range(5):
        started = time.perf_counter()
        response = session.post(server.base_url + BULK_PATH, data=json.dumps(ids), headers=headers, timeout=10)
        durations.append(time.perf_counter() - started)
        assert response.status_code == 200
    assert min(durations) < 0.05, durations


# Request validation.


@pytest.mark.parametrize(
    ("data", "expected_fragment"),
    [
        ("not json", "not valid JSON"),
        ("", "empty"),
        ("[1, 2", "not valid JSON"),
        ("[NaN]", "not valid JSON"),
        (b"[\xff]", "not valid JSON"),
        ('{"ids": [400000001]}', "got an object"),
        ('"400000001"', 'got "400000001"'),
        ("400000001", "got 400000001"),
        ("null", "got null"),
        ('[400000001, 400000002, "abc"]', '$[2]: expected a positive integer customer ID, got "abc"'),
        ('["400000001"]', '$[0]: expected a positive integer customer ID, got "400000001"'),
        ("[1.0]", "$[0]: expected a positive integer customer ID, got the number 1.0"),
        ("[400000001.5]", "$[0]"),
        ("[1e3]", "$[0]"),
        ("[true]", "$[0]: expected a positive integer customer ID, got true"),
        ("[false]", "got false"),
        ("[null]", "got null"),
        ("[[400000001]]", "got an array"),
        ('[{"id": 1}]', "got an object"),
        ("[-1]", "got -1"),
        ("[0]", "got 0"),
        ("[9223372036854775808]", "9223372036854775808"),
        ("[" + "9" * 5000 + "]", "5000 digits"),
        ("[]", "empty"),
        ("[" + ",".join(["400000001"] * 101) + "]", "101 customer IDs"),
    ],
)
def test_invalid_body_rejected(server, data, expected_fragment):
    item = assert_error_body(post_bulk(server, data=data), 400)
    assert item["code"] == 400
    assert expected_fragment in item["message"]


def test_largest_64_bit_id_accepted(server):
    response = post_bulk(server, data="[9223372036854775807]")
    assert response.status_code == 200
    assert response.json()["data"][0]["entity"]["id"] == 9223372036854775807


@pytest.mark.parametrize(
    ("params", "code", "expected_fragment"),
    [
        ("format=xml", 400, "format='xml'"),
        ("format=json&format=xml", 400, "format='xml'"),
        ("identifierName=phone&identifierValue=919000000001", 400, "identifierName='phone'"),
        ("identifierName=mobile", 400, "Missing query parameter identifierValue"),
        ("identifierName=mobile&identifierValue=", 400, "Missing query parameter identifierValue"),
        ("identifierValue=919000000001", 400, "Missing query parameter identifierName"),
        ("source=NOT_A_SOURCE", 8003, "Invalid source 'NOT_A_SOURCE'"),
        ("source=wechat", 8003, "Invalid source"),
    ],
)
def test_invalid_query_rejected(server, params, code, expected_fragment):
    item = assert_error_body(post_bulk(server, [400000001], params=params), 400)
    assert item["code"] == code
    assert expected_fragment in item["message"]


@pytest.mark.parametrize(
    "params",
    [
        "format=json",
        "format=json&format=json",
        "format=json&format=json&identifierName=mobile&identifierValue=919000000001&source=WECHAT",
        # The query of the vendor's sample cURL.
        "format=json&format=json&identifierName=mobile&identifierValue=919000000001&source=WHATSAPP",
        "identifierName=email&identifierValue=customer400000001@example.com",
        "identifierName=externalId&identifierValue=EXT-400000001&accountId=1234",
        "source=INSTORE&accountId=",
        "unrelated=1&another=x",
    ],
)
def test_valid_query_accepted(server, params):
    response = post_bulk(server, [400000001, 999999001], params=params)
    assert response.status_code == 200
    assert response.json() == post_bulk(server, [400000001, 999999001]).json()


def test_every_supported_source_accepted(server):
    for source in SandboxSettings().supported_sources:
        response = post_bulk(server, [400000001], params={"source": source})
        assert response.status_code == 200, source


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_rejected(server, content_type):
    headers = {"Content-Type": content_type}
    response = post_bulk(server, data="[400000001]", headers=headers)
    item = assert_error_body(response, 415)
    assert item["code"] == 415


def test_json_charset_accepted(server):
    response = post_bulk(server, data="[400000001]", headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_oversized_body_rejected(server):
    response = post_bulk(server, data="[" + " " * (2 * 1024 * 1024) + "1]")
    assert_error_body(response, 413)


# Paths and methods.


@pytest.mark.parametrize("path", ["/", "/v2/bulk/getcustomers", "/v2/bulk/getCustomers/", "/v1.1/customer/get"])
def test_unknown_path_json_404(server, path):
    response = requests.post(server.base_url + path, headers={"Authorization": VENDOR_BASIC_HEADER}, timeout=10)
    item = assert_error_body(response, 404)
    assert path in item["message"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_wrong_method_json_405(server, method):
    response = requests.request(
        method, server.base_url + BULK_PATH, headers={"Authorization": VENDOR_BASIC_HEADER}, timeout=10
    )
    item = assert_error_body(response, 405)
    assert method in item["message"]
    assert response.headers["Allow"] == "POST"


# Authentication.


def test_missing_credentials_401(server):
    response = requests.post(
        server.base_url + BULK_PATH, data="[400000001]", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert_error_body(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="sandbox"'


@pytest.mark.parametrize(
    "authorization",
    [
        basic_header("store.server", "wrong"),
        basic_header("someone.else", "server123"),
        "Basic " + base64.b64encode(b"store.server:server123").decode(),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Bearer abc",
    ],
)
def test_wrong_credentials_401(server, authorization):
    response = post_bulk(server, [400000001], headers={"Authorization": authorization})
    assert_error_body(response, 401)


def test_md5_digest_case_insensitive(server):
    digest = hashlib.md5(b"server123").hexdigest().upper()
    authorization = "Basic " + base64.b64encode(f"store.server:{digest}".encode()).decode()
    assert post_bulk(server, [400000001], headers={"Authorization": authorization}).status_code == 200


def generate_token(server: SandboxServer, key: str, secret: str) -> requests.Response:
    return requests.post(server.base_url + TOKEN_PATH, json={"key": key, "secret": secret}, timeout=10)


def test_oauth_token_flow(server):
    response = generate_token(server, "sandbox-key", "sandbox-secret")
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] is None
    assert body["data"]["ttlSeconds"] == TOKEN_TTL_SECONDS
    token = body["data"]["accessToken"]
    assert isinstance(token, str) and len(token) >= 32

    for header in ("X-CAP-API-OAUTH-TOKEN", "CAP-API-ACCESS-TOKEN"):
        response = post_bulk(server, [400000001], headers={"Authorization": None, header: token})
        assert response.status_code == 200, header

    assert generate_token(server, "sandbox-key", "sandbox-secret").json()["data"]["accessToken"] != token


def test_oauth_token_expires(server):
    token = generate_token(server, "sandbox-key", "sandbox-secret").json()["data"]["accessToken"]
    assert post_bulk(server, [400000001], headers={"Authorization": None, "X-CAP-API-OAUTH-TOKEN": token}).ok

    time.sleep(TOKEN_TTL_SECONDS + 0.2)
    response = post_bulk(server, [400000001], headers={"Authorization": None, "X-CAP-API-OAUTH-TOKEN": token})
    item = assert_error_body(response, 401)
    assert "expired" in item["message"]


def test_unknown_token_401(server):
    response = post_bulk(server, [400000001], headers={"Authorization": None, "X-CAP-API-OAUTH-TOKEN": "made-up"})
    item = assert_error_body(response, 401)
    assert "unknown" in item["message"]


@pytest.mark.parametrize(("key", "secret"), [("sandbox-key", "wrong"), ("wrong", "sandbox-secret"), ("", "")])
def test_oauth_wrong_pair_401(server, key, secret):
    assert_error_body(generate_token(server, key, secret), 401)


@pytest.mark.parametrize("data", ["", "not json", "[]", '{"key": 1, "secret": 2}'])
def test_oauth_malformed_request(server, data):
    response = requests.post(
        server.base_url + TOKEN_PATH, data=data, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code in (400, 401)
    assert_error_body(response, response.status_code)


# Internal errors.


def test_handler_error_recorded(database):
    with SandboxServer(CREDENTIALS, database_path=database) as running:
        state = sandbox_state(running._app)

        def broken_lookup(ids):
            raise RuntimeError("simulated storage failure")

        state.store.lookup = broken_lookup
        response = post_bulk(running, [400000001])

        item = assert_error_body(response, 500)
        assert "simulated storage failure" in item["message"]
        assert len(running.handler_errors) == 1
        assert isinstance(running.handler_errors[0], RuntimeError)


def test_unknown_fault_rejected(database):
    with pytest.raises(ValueError, match="Unknown fault 'no-such-fault'"):
        SandboxServer(CREDENTIALS, fault="no-such-fault", database_path=database).start()


def test_catalogue_entries_complete():
    for name, entry in FAULTS.items():
        assert entry.name == name
        assert entry.kind in {"fault", "variant", "network"}
        assert entry.description
        if entry.kind == "fault":
            assert entry.rule
        else:
            assert entry.rule == ""
    assert set(fault_names()) == set(FAULTS)
    assert set(fault_names("fault")) | set(fault_names("variant")) | set(fault_names("network")) == set(FAULTS)


# Command line.


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contract_support.sandbox", *arguments],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cli_lists_faults():
    completed = run_cli("--list-faults")
    assert completed.returncode == 0
    for name in FAULTS:
        assert name in completed.stdout


def test_cli_unknown_fault_exits_2():
    completed = run_cli("--fault", "no-such-fault", "--port", "0")
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "envelope-missing-data" in completed.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com"])
def test_cli_rejects_non_loopback_host(host):
    completed = run_cli("--host", host, "--port", "0")
    assert completed.returncode == 2
    assert "loopback" in completed.stderr


def test_cli_serves_requests():
    environment = dict(os.environ, SANDBOX_USERNAME="store.server", SANDBOX_PASSWORD="server123")
    environment.pop("SANDBOX_OAUTH_KEY", None)
    environment.pop("SANDBOX_OAUTH_SECRET", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "contract_support.sandbox", "--port", "0"],
        cwd=REPOSITORY_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed = []
        base_url = None
        deadline = time.monotonic() + 30
        while base_url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line)
            match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)
            if match:
                base_url = match.group(1)
        assert base_url is not None, printed

        assert any(line.startswith("Generated oauth_key: ") for line in printed)
        assert not any("server123" in line for line in printed)
        response = requests.post(
            base_url + BULK_PATH,
            data="[400000001]",
            headers={"Authorization": VENDOR_BASIC_HEADER, "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)

    assert f"POST {BULK_PATH} 200" in stderr
