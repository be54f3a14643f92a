"""Authentication: missing and wrong credentials are refused, valid ones accepted."""

import base64

import pytest

from contract_support.auth import VendorBasicAuth


@pytest.mark.smoke
@pytest.mark.rule("AUTH-MISSING")
def test_request_without_credentials_refused(api, contract, environment, known_ids):
    call = api.get_customers(known_ids[:1], auth=None)

    contract.error_response(call, environment.expectations["auth_failure_status"], "AUTH-MISSING")


@pytest.mark.rule("AUTH-WRONG")
def test_wrong_password_refused(api, contract, environment, credentials, known_ids):
    if environment.auth["type"] != "basic":
        pytest.skip("the environment does not use Basic auth")
    wrong = VendorBasicAuth(credentials.username, "wrong-" + (credentials.password or "password"))
    call = api.get_customers(known_ids[:1], auth=wrong)

    contract.error_response(call, environment.expectations["auth_failure_status"], "AUTH-WRONG")


@pytest.mark.rule("AUTH-WRONG")
def test_unknown_user_refused(api, contract, environment, known_ids):
    call = api.get_customers(known_ids[:1], auth=VendorBasicAuth("no.such.user.for.contract.tests", "password"))

    contract.error_response(call, environment.expectations["auth_failure_status"], "AUTH-WRONG")


@pytest.mark.rule("AUTH-WRONG")
def test_plain_password_in_basic_refused(api, contract, environment, credentials, known_ids):
    if environment.auth["type"] != "basic" or not credentials.password:
        pytest.skip("needs Basic auth with a plain password")
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    api.redactor.add_secret(token)
    call = api.get_customers(known_ids[:1], auth=None, headers={"Authorization": f"Basic {token}"})

    contract.error_response(call, environment.expectations["auth_failure_status"], "AUTH-WRONG")


@pytest.mark.rule("AUTH-WRONG")
def test_invalid_oauth_token_refused(api, contract, environment, known_ids):
    header = environment.auth.get("token_header", "X-CAP-API-OAUTH-TOKEN")
    call = api.get_customers(known_ids[:1], auth=None, headers={header: "invalid-token-for-contract-tests"})

    contract.error_response(call, environment.expectations["auth_failure_status"], "AUTH-WRONG")


@pytest.mark.smoke
@pytest.mark.rule("AUTH-ACCEPTED")
def test_configured_credentials_accepted(api, contract, known_ids):
    call = api.get_customers(known_ids[:1])

    contract.status(call, [200], "AUTH-ACCEPTED")
