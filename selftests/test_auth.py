"""Self tests of the vendor's Basic scheme and the OAuth token cache."""

import time

import pytest
import requests

from contract_support.auth import OAuthTokenAuth, TokenError, basic_header_value, md5_hex
from contract_support.sandbox.server import SandboxServer
from contract_support.sandbox.settings import Credentials, SandboxSettings

# The vendor's worked example for Basic authentication.
VENDOR_USERNAME = "store.server"
VENDOR_PASSWORD = "server123"
VENDOR_MD5 = "8a16a6b70505eb1f1ff7cdc0cd5559a7"
VENDOR_HEADER = "Basic c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3"


def test_md5_of_vendor_password():
    assert md5_hex(VENDOR_PASSWORD) == VENDOR_MD5


def test_basic_header_from_plain_password_matches_vendor_example():
    assert basic_header_value(VENDOR_USERNAME, password=VENDOR_PASSWORD) == VENDOR_HEADER


def test_basic_header_from_md5_digest_matches_vendor_example():
    assert basic_header_value(VENDOR_USERNAME, password_md5=VENDOR_MD5.upper()) == VENDOR_HEADER


@pytest.mark.parametrize(
    "kwargs", [{}, {"password": "a", "password_md5": VENDOR_MD5}, {"password_md5": "not-a-digest"}],
    ids=["neither", "both", "bad-digest"],
)
def test_basic_header_rejects_ambiguous_input(kwargs):
    with pytest.raises(ValueError):
        basic_header_value(VENDOR_USERNAME, **kwargs)


@pytest.fixture(scope="module")
def oauth_sandbox():
    credentials = Credentials("user", "password", "oauth-key-for-tests", "oauth-secret-for-tests")
    with SandboxServer(credentials, settings=SandboxSettings(token_ttl_seconds=2)) as server:
        yield server


def test_oauth_token_cached_and_accepted(oauth_sandbox):
    auth = OAuthTokenAuth(oauth_sandbox.base_url, "oauth-key-for-tests", "oauth-secret-for-tests", renew_before_seconds=0)

    responses = [
        requests.post(f"{oauth_sandbox.base_url}/v2/bulk/getCustomers", json=[400000001], auth=auth, timeout=5)
        for _ in range(3)
    ]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert auth.tokens_generated == 1


def test_oauth_token_renewed_before_expiry(oauth_sandbox):
    # The fixture's sandbox issues 2-second tokens. Renewing 1.5 s before expiry gives a fresh token after 0.6 s.
    auth = OAuthTokenAuth(oauth_sandbox.base_url, "oauth-key-for-tests", "oauth-secret-for-tests", renew_before_seconds=1.5)

    first = auth.token()
    time.sleep(0.6)
    second = auth.token()

    assert second != first
    assert auth.tokens_generated == 2


def test_oauth_wrong_secret_raises_token_error(oauth_sandbox):
    auth = OAuthTokenAuth(oauth_sandbox.base_url, "oauth-key-for-tests", "wrong-secret")

    with pytest.raises(TokenError, match="failed with HTTP 401"):
        auth.token()
