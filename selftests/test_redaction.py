"""Self tests of secret redaction in text, headers, JSON bodies and curl commands."""

import json

from contract_support.auth import basic_header_value, md5_hex
from contract_support.config import Credentials
from contract_support.curl import curl_command
from contract_support.redaction import REDACTED, Redactor

PASSWORD = "canary-password-7f3a"


def test_known_secret_replaced_in_text():
    redactor = Redactor([PASSWORD])

    assert redactor.text(f"login with {PASSWORD} failed") == f"login with {REDACTED} failed"


def test_short_values_not_treated_as_secrets():
    redactor = Redactor(["ab"])

    assert redactor.text("abc") == "abc"


def test_secret_added_later_is_redacted():
    redactor = Redactor()
    redactor.add_secret("token-issued-mid-run")

    assert "token-issued-mid-run" not in redactor.text("X: token-issued-mid-run")


def test_secret_headers_redacted_keeping_scheme():
    redactor = Redactor()
    headers = {
        "Authorization": basic_header_value("user", PASSWORD),
        "X-CAP-API-OAUTH-TOKEN": "abc123token",
        "Cookie": "session=xyz",
        "Content-Type": "application/json",
    }

    redacted = redactor.headers(headers)

    assert redacted == {
        "Authorization": f"Basic {REDACTED}",
        "X-CAP-API-OAUTH-TOKEN": REDACTED,
        "Cookie": REDACTED,
        "Content-Type": "application/json",
    }


def test_secret_keys_redacted_in_json_body():
    redactor = Redactor()
    body = json.dumps({"key": "k-123", "secret": "s-456", "data": {"accessToken": "t-789", "ttlSeconds": 300}})

    redacted = json.loads(redactor.body(body))

    assert redacted == {"key": REDACTED, "secret": REDACTED, "data": {"accessToken": REDACTED, "ttlSeconds": 300}}


def test_curl_uses_shell_variable_for_secret_header():
    redactor = Redactor([PASSWORD])
    header = basic_header_value("user", PASSWORD)

    command = curl_command(
        "POST", "http://127.0.0.1:8080/v2/bulk/getCustomers?format=json",
        {"Authorization": header, "Content-Type": "application/json"}, b"[1, 2]", redactor,
    )

    assert header not in command
    assert header.split(" ", 1)[1] not in command
    assert '--header "Authorization: $AUTHORIZATION"' in command
    assert "--data-raw '[1, 2]'" in command
    assert command.startswith("curl --request POST 'http://127.0.0.1:8080/v2/bulk/getCustomers?format=json'")


def test_md5_of_plain_password_counts_as_secret():
    credentials = Credentials(username="user", password=PASSWORD)

    assert md5_hex(PASSWORD) in credentials.secrets()
    assert md5_hex(PASSWORD) not in Redactor(credentials.secrets()).text(f"user:{md5_hex(PASSWORD)}")


def test_credentials_repr_hides_secrets():
    credentials = Credentials(username="user", password=PASSWORD, oauth_key="key-1234", oauth_secret="secret-5678")

    assert repr(credentials) == "Credentials(username='user')"
