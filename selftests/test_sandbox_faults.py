"""Self tests of the sandbox's faults, variants and network modes.

- Every fault must change what a client observes, compared with the correct
  server, for a request chosen to trigger it. A fault that changes nothing
  proves nothing about the suite.
- Every variant must differ from the correct server and still keep the
  documented semantics.
- Every network mode must fail some requests, and a retrying `requests`
  session must still get every response right.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from contract_support.sandbox import FAULTS, Credentials, SandboxServer, SandboxSettings, fault_names

CREDENTIALS = Credentials("store.server", "server123", "sandbox-key", "sandbox-secret")
# The vendor's worked example for username store.server and password server123.
BASIC_HEADER = "Basic c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3"
WRONG_PASSWORD_HEADER = "Basic c3RvcmUuc2VydmVyOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
# base64 of store.server:server123, the password itself in place of its MD5 digest.
PLAIN_PASSWORD_HEADER = "Basic c3RvcmUuc2VydmVyOnNlcnZlcjEyMw=="
BULK_PATH = "/v2/bulk/getCustomers"
SETTINGS = SandboxSettings(slow_seconds=0.3, slow_batch_threshold=20, intermittent_every=5)

FIRST, SECOND, THIRD = 400000001, 400000002, 400000003
UNKNOWN = 999999001
DELETED = 400000297


class Client:
    """Minimal client of one sandbox server, sending the vendor's Basic credentials by default."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url
        self.session = session or requests.Session()

    def bulk(self, ids=None, *, data=None, params=None, headers=None, path=BULK_PATH) -> requests.Response:
        sent_headers = {"Authorization": BASIC_HEADER, "Content-Type": "application/json"}
        sent_headers.update(headers or {})
        if data is None:
            data = json.dumps(ids)
        return self.session.post(self.base_url + path, data=data, params=params, headers=sent_headers, timeout=10)


def observe(response: requests.Response) -> tuple:
    """Reduce a response to what a contract check can see: status, labels and decoded body."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return (
        response.status_code,
        response.headers.get("Content-Type"),
        response.headers.get("Content-Encoding"),
        response.text,
        body,
    )


def _statuses_of_calls(client: Client, count: int) -> list[int]:
    return [client.bulk([FIRST]).status_code for _ in range(count)]


def _is_slow(client: Client) -> bool:
    started = time.perf_counter()
    client.bulk(list(range(FIRST, FIRST + SETTINGS.slow_batch_threshold)))
    return time.perf_counter() - started >= SETTINGS.slow_seconds


def _repeats_identically(client: Client) -> bool:
    return client.bulk([FIRST, SECOND]).content == client.bulk([FIRST, SECOND]).content


def _alone_equals_in_batch(client: Client) -> bool:
    alone = client.bulk([FIRST]).json()["data"][0]
    in_batch = client.bulk([FIRST, SECOND]).json()["data"][0]
    return alone == in_batch


# One request per fault that triggers it. A probe returns a value that must
# differ between the correct server and the faulty one.
FAULT_PROBES: dict[str, Callable[[Client], object]] = {
    "envelope-missing-data": lambda client: observe(client.bulk([FIRST])),
    "envelope-data-object": lambda client: observe(client.bulk([FIRST, UNKNOWN])),
    "envelope-extra-wrapper": lambda client: observe(client.bulk([FIRST])),
    "envelope-errors": lambda client: observe(client.bulk([FIRST])),
    "text-plain-response": lambda client: observe(client.bulk([FIRST])),
    "id-as-string": lambda client: observe(client.bulk([FIRST])),
    "success-as-string": lambda client: observe(client.bulk([FIRST])),
    "bad-datetime": lambda client: observe(client.bulk([FIRST])),
    "purchases-as-string": lambda client: observe(client.bulk([FIRST])),
    "skeleton-entity": lambda client: observe(client.bulk([FIRST])),
    "userid-mismatch": lambda client: observe(client.bulk([FIRST])),
    "success-with-errors": lambda client: observe(client.bulk([FIRST])),
    "unknown-as-success": lambda client: observe(client.bulk([UNKNOWN])),
    "unknown-dropped": lambda client: observe(client.bulk([FIRST, UNKNOWN])),
    "unknown-leaks-other": lambda client: observe(client.bulk([UNKNOWN])),
    "deleted-leaks-pii": lambda client: observe(client.bulk([DELETED])),
    "duplicates-collapsed": lambda client: observe(client.bulk([FIRST, FIRST])),
    "wrong-customer": lambda client: observe(client.bulk([FIRST])),
    "same-customer-for-all": lambda client: observe(client.bulk([FIRST, SECOND])),
    "large-batch-truncated": lambda client: observe(client.bulk(list(range(FIRST, FIRST + 11)))),
    "unknown-500": lambda client: observe(client.bulk([FIRST, UNKNOWN])),
    "unknown-spoils-known": lambda client: observe(client.bulk([FIRST, UNKNOWN])),
    "order-reversed": lambda client: observe(client.bulk([FIRST, SECOND, THIRD])),
    "swapped-entities": lambda client: observe(client.bulk([FIRST, SECOND, THIRD])),
    "malformed-500": lambda client: observe(client.bulk(data="not json")),
    "object-body-200": lambda client: observe(client.bulk(data='{"ids": [400000001]}')),
    "decimal-id-accepted": lambda client: observe(client.bulk(data="[400000001.0]")),
    "empty-list-200": lambda client: observe(client.bulk([])),
    "over-batch-accepted": lambda client: observe(client.bulk(list(range(FIRST, FIRST + 101)))),
    "wrong-content-type-accepted": lambda client: observe(
        client.bulk([FIRST], headers={"Content-Type": "text/plain"})
    ),
    "html-error-page": lambda client: observe(client.bulk([])),
    "unknown-path-no-json": lambda client: observe(client.bulk([FIRST], path="/v2/bulk/nothing")),
    "format-xml-accepted": lambda client: observe(client.bulk([FIRST], params="format=xml")),
    "format-repeated-rejected": lambda client: observe(client.bulk([FIRST], params="format=json&format=json")),
    "identifier-name-accepted": lambda client: observe(
        client.bulk([FIRST], params="identifierName=phone&identifierValue=919000000001")
    ),
    "unknown-source-accepted": lambda client: observe(client.bulk([FIRST], params="source=NOT_A_SOURCE")),
    "source-wrong-code": lambda client: observe(client.bulk([FIRST], params="source=NOT_A_SOURCE")),
    "auth-none-accepted": lambda client: observe(client.bulk([FIRST], headers={"Authorization": None})),
    "auth-wrong-password-accepted": lambda client: observe(
        client.bulk([FIRST], headers={"Authorization": WRONG_PASSWORD_HEADER})
    ),
    "plain-password-accepted": lambda client: observe(
        client.bulk([FIRST], headers={"Authorization": PLAIN_PASSWORD_HEADER})
    ),
    "email-not-email": lambda client: observe(client.bulk([FIRST])),
    "negative-purchases": lambda client: observe(client.bulk([FIRST])),
    "intermittent-500": lambda client: _statuses_of_calls(client, SETTINGS.intermittent_every),
    "slow-large-batches": _is_slow,
    "not-idempotent": _repeats_identically,
    "batch-dependent": _alone_equals_in_batch,
}


@pytest.fixture(scope="module")
def correct_server(database):
    with SandboxServer(CREDENTIALS, settings=SETTINGS, database_path=database) as running:
        yield running


def start_server(database: Path, fault: str) -> SandboxServer:
    server = SandboxServer(CREDENTIALS, fault=fault, settings=SETTINGS, database_path=database)
    server.start()
    return server


def test_every_fault_has_probe():
    assert set(FAULT_PROBES) == set(fault_names("fault"))


@pytest.mark.parametrize("fault", fault_names("fault"))
def test_fault_changes_behaviour(database, correct_server, fault):
    probe = FAULT_PROBES[fault]
    expected = probe(Client(correct_server.base_url))

    server = start_server(database, fault)
    try:
        observed = probe(Client(server.base_url))
        assert server.handler_errors == []
    finally:
        server.stop()

    assert observed != expected, f"{fault} ({FAULTS[fault].rule}) changed nothing"
    assert correct_server.handler_errors == []


# Specific checks for faults whose effect is easy to get subtly wrong.


def test_wrong_customer_keeps_ids(database):
    server = start_server(database, "wrong-customer")
    try:
        entity = Client(server.base_url).bulk([FIRST]).json()["data"][0]["entity"]
    finally:
        server.stop()
    assert entity["id"] == FIRST
    assert all(profile["userId"] == FIRST for profile in entity["profiles"])
    assert {"type": "mobile", "value": "919000000002"} in entity["profiles"][0]["identifiers"]


def test_swapped_entities_swap_ids(database):
    server = start_server(database, "swapped-entities")
    try:
        data = Client(server.base_url).bulk([FIRST, SECOND, THIRD]).json()["data"]
    finally:
        server.stop()
    assert [result["entity"]["id"] for result in data] == [SECOND, FIRST, THIRD]


def test_same_customer_for_all_serves_first(database):
    server = start_server(database, "same-customer-for-all")
    try:
        data = Client(server.base_url).bulk([UNKNOWN, SECOND, FIRST, DELETED, THIRD]).json()["data"]
    finally:
        server.stop()
    first_found = data[1]["entity"]
    assert first_found["profiles"][0]["identifiers"][0] == {"type": "mobile", "value": "919000000002"}
    for result in (data[2], data[4]):
        entity = result["entity"]
        assert all(profile["userId"] == entity["id"] for profile in entity["profiles"])
        assert [profile["identifiers"] for profile in entity["profiles"]] == [
            profile["identifiers"] for profile in first_found["profiles"]
        ]
    assert "profiles" not in data[0]["entity"]
    assert data[3]["entity"]["profiles"] == []


def test_deleted_leaks_pii_keeps_error(database):
    server = start_server(database, "deleted-leaks-pii")
    try:
        result = Client(server.base_url).bulk([DELETED]).json()["data"][0]
    finally:
        server.stop()
    assert result["success"] is False
    assert result["errors"][0]["code"] == 8109
    profile = result["entity"]["profiles"][0]
    assert profile["userId"] == DELETED
    assert profile["firstName"] == "Sandbox"
    assert profile["lastName"] == "Customer0297"
    assert {"type": "mobile", "value": "919000000297"} in profile["identifiers"]
    assert profile["commChannels"][0]["value"] == f"customer{DELETED}@example.com"


def test_unknown_leaks_other_keeps_error(database):
    server = start_server(database, "unknown-leaks-other")
    try:
        result = Client(server.base_url).bulk([UNKNOWN]).json()["data"][0]
    finally:
        server.stop()
    assert result["success"] is False
    assert result["errors"][0]["code"] == 8015
    profiles = result["entity"]["profiles"]
    assert profiles
    assert all(profile["userId"] == UNKNOWN for profile in profiles)
    assert {"type": "mobile", "value": "919000000001"} in profiles[0]["identifiers"]


def test_envelope_errors_keeps_results(database, correct_server):
    expected = Client(correct_server.base_url).bulk([FIRST, UNKNOWN]).json()
    server = start_server(database, "envelope-errors")
    try:
        response = Client(server.base_url).bulk([FIRST, UNKNOWN])
    finally:
        server.stop()
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == [{"status": False, "code": 500, "message": "partial failure"}]
    assert body["data"] == expected["data"]


def test_skeleton_entity_shape(database):
    server = start_server(database, "skeleton-entity")
    try:
        data = Client(server.base_url).bulk([FIRST, UNKNOWN]).json()["data"]
    finally:
        server.stop()
    entity = data[0]["entity"]
    assert list(entity) == ["id", "profiles"]
    assert entity["profiles"]
    for profile in entity["profiles"]:
        assert list(profile) == ["userId", "identifiers"]
        assert profile["userId"] == FIRST
    assert data[0]["success"] is True
    assert data[1]["errors"][0]["code"] == 8015


def test_source_wrong_code_still_400(database):
    server = start_server(database, "source-wrong-code")
    try:
        client = Client(server.base_url)
        rejected = client.bulk([FIRST], params="source=NOT_A_SOURCE")
        accepted = client.bulk([FIRST], params="source=WECHAT")
    finally:
        server.stop()
    assert rejected.status_code == 400
    assert rejected.json()["errors"][0]["code"] == 400
    assert accepted.status_code == 200


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(BASIC_HEADER, 200), (PLAIN_PASSWORD_HEADER, 200), (WRONG_PASSWORD_HEADER, 401)],
    ids=["md5-digest", "plain-password", "wrong-password"],
)
def test_plain_password_accepted_only(database, authorization, status):
    server = start_server(database, "plain-password-accepted")
    try:
        response = Client(server.base_url).bulk([FIRST], headers={"Authorization": authorization})
    finally:
        server.stop()
    assert response.status_code == status


def test_intermittent_500_json_body(database):
    server = start_server(database, "intermittent-500")
    try:
        client = Client(server.base_url)
        responses = [client.bulk([FIRST]) for _ in range(2 * SETTINGS.intermittent_every)]
    finally:
        server.stop()
    statuses = [response.status_code for response in responses]
    assert statuses == ([200] * (SETTINGS.intermittent_every - 1) + [500]) * 2
    assert responses[SETTINGS.intermittent_every - 1].json()["errors"][0]["code"] == 500


# Variants.

VARIANT_IDS = [FIRST, SECOND, UNKNOWN, DELETED, FIRST, THIRD]


def check_documented_semantics(body: dict, ids: list[int]) -> None:
    """Check what any correct server must send for `ids`, whatever its optional fields and key order."""
    assert isinstance(body["data"], list)
    assert len(body["data"]) == len(ids)
    for customer_id, result in zip(ids, body["data"]):
        entity = result["entity"]
        assert type(entity["id"]) is int
        assert entity["id"] == customer_id
        assert type(result["success"]) is bool

        if customer_id == UNKNOWN:
            assert result["success"] is False
            assert result["errors"][0]["code"] in (8015, 816)
        elif customer_id == DELETED:
            assert result["success"] is False
            assert result["errors"][0]["code"] == 8109
        else:
            assert result["success"] is True
            assert result["errors"] == []
            purchases = entity["loyaltyInfo"]["lifetimePurchases"]
            assert type(purchases) in (int, float)
            assert purchases >= 0
            assert entity["profiles"]
            for profile in entity["profiles"]:
                assert profile["userId"] == customer_id
                assert any(identifier["type"] == "mobile" for identifier in profile["identifiers"])


def observe_variant(client: Client) -> tuple:
    response = client.bulk(VARIANT_IDS)
    return (response.headers.get("Content-Type"), response.headers.get("Content-Encoding"), response.text)


def test_correct_server_meets_semantics(correct_server):
    response = Client(correct_server.base_url).bulk(VARIANT_IDS)
    check_documented_semantics(response.json(), VARIANT_IDS)


@pytest.mark.parametrize("variant", fault_names("variant"))
def test_variant_keeps_semantics(database, correct_server, variant):
    server = start_server(database, variant)
    try:
        client = Client(server.base_url)
        response = client.bulk(VARIANT_IDS)
        observed = observe_variant(client)
        assert server.handler_errors == []
    finally:
        server.stop()

    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0].strip() == "application/json"
    check_documented_semantics(response.json(), VARIANT_IDS)
    assert observed != observe_variant(Client(correct_server.base_url)), f"{variant} changed nothing"


def test_gzip_only_when_accepted(database):
    server = start_server(database, "variant-gzip")
    try:
        client = Client(server.base_url)
        compressed = client.bulk([FIRST], headers={"Accept-Encoding": "gzip"})
        plain = client.bulk([FIRST], headers={"Accept-Encoding": "identity"})
    finally:
        server.stop()
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert compressed.json() == plain.json()


def test_key_order_reversed(database):
    server = start_server(database, "variant-key-order")
    try:
        body = Client(server.base_url).bulk([FIRST]).json()
    finally:
        server.stop()
    assert list(body) == ["errors", "warnings", "data"]
    assert list(body["data"][0]) == ["success", "errors", "warnings", "entity"]


# Network modes.


def retrying_session() -> requests.Session:
    retry = Retry(
        total=5,
        backoff_factor=0,
        status_forcelist=[429, 502, 503, 504],
        allowed_methods=None,
        respect_retry_after_header=True,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def count_failures(client: Client, count: int) -> int:
    failures = 0
    for _ in range(count):
        try:
            response = client.bulk([FIRST])
        except requests.ConnectionError:
            failures += 1
            continue
        if response.status_code != 200:
            failures += 1
    return failures


@pytest.mark.parametrize("mode", ["flaky-throttle", "flaky-503", "flaky-reset"])
def test_network_mode_fails_requests(database, mode):
    server = start_server(database, mode)
    try:
        failures = count_failures(Client(server.base_url), 4)
        assert server.handler_errors == []
    finally:
        server.stop()
    assert failures == 1


def test_throttle_sends_retry_after(database):
    server = start_server(database, "flaky-throttle")
    try:
        client = Client(server.base_url)
        responses = [client.bulk([FIRST]) for _ in range(4)]
    finally:
        server.stop()
    throttled = responses[3]
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json()["errors"][0]["code"] == 429


def test_reset_drops_connection(database):
    server = start_server(database, "flaky-reset")
    try:
        client = Client(server.base_url)
        for _ in range(3):
            assert client.bulk([FIRST]).status_code == 200
        with pytest.raises(requests.ConnectionError, match="Remote end closed connection"):
            client.bulk([FIRST])
        assert client.bulk([FIRST]).status_code == 200
    finally:
        server.stop()


def test_flaky_slow_delays(database):
    server = start_server(database, "flaky-slow")
    try:
        started = time.perf_counter()
        Client(server.base_url).bulk([FIRST])
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    assert elapsed >= 0.3


@pytest.mark.parametrize("mode", fault_names("network"))
def test_retrying_client_survives(database, correct_server, mode):
    expected = Client(correct_server.base_url).bulk([FIRST, UNKNOWN]).json()

    server = start_server(database, mode)
    try:
        client = Client(server.base_url, retrying_session())
        for _ in range(8):
            response = client.bulk([FIRST, UNKNOWN])
            assert response.status_code == 200
            assert response.json() == expected
        assert server.handler_errors == []
    finally:
        server.stop()
