"""Self tests of environment loading: valid files load, invalid ones fail with one line."""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from contract_support.config import ConfigError, load_environment, read_credentials

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent

VALID = textwrap.dedent(
    """\
    name: custom
    base_url: http://127.0.0.1:9
    production: false
    auth: {type: basic, username_variable: CUSTOM_USERNAME, password_variable: CUSTOM_PASSWORD}
    limits: {requests_per_minute: 10, timeout_seconds: 5, max_batch: 10}
    test_data:
      known_customer_ids: [1, 2]
      unknown_customer_ids: [3]
      identifier: {type: mobile, value: "1", customer_id: 1}
    """
)


def write(tmp_path, text):
    path = tmp_path / "custom.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["sandbox", "staging", "eu"])
def test_shipped_environments_load(name):
    environment = load_environment(name)

    assert environment.name == name
    assert environment.limits.max_batch >= 1


def test_inferred_defaults_fill_missing_expectations(tmp_path):
    environment = load_environment(str(write(tmp_path, VALID)))

    assert environment.expectations["empty_list_status"] == [400]
    assert environment.expectations["result_order"] == "request"


def test_expectation_override_wins(tmp_path):
    text = VALID + "expectations: {result_order: any, empty_list_status: [200, 400]}\n"

    environment = load_environment(str(write(tmp_path, text)))

    assert environment.expectations["result_order"] == "any"
    assert environment.expectations["empty_list_status"] == [200, 400]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("max_batch: 10", "max_batch: 0"), "limits.max_batch: 0 is less than the minimum of 5"),
        (("production: false", "production: maybe"), "production: 'maybe' is not of type 'boolean'"),
        (("type: basic", "type: kerberos"), "auth.type: 'kerberos' is not one of ['none', 'basic', 'oauth']"),
        (("CUSTOM_PASSWORD", "custom_password"), "auth.password_variable: 'custom_password' does not match"),
        (("name: custom", "name: custom\ncolour: blue"), "(top level): unknown key ('colour' was unexpected)"),
        (("base_url: http://127.0.0.1:9\n", ""), "(top level): 'base_url' is a required property"),
        (("[1, 2]", "[1]"), "test_data.known_customer_ids: [1] is too short: at least 2 items"),
    ],
    ids=["batch-zero", "not-boolean", "auth-type", "variable-name", "unknown-key", "no-base-url", "too-few-ids"],
)
def test_invalid_file_names_the_key(tmp_path, change, expected):
    path = write(tmp_path, VALID.replace(*change))

    with pytest.raises(ConfigError) as raised:
        load_environment(str(path))

    message = str(raised.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_invalid_yaml_names_line(tmp_path):
    path = write(tmp_path, "name: [unclosed\n")

    with pytest.raises(ConfigError, match=r"invalid YAML at line 2"):
        load_environment(str(path))


def test_unknown_environment_lists_known_ones():
    with pytest.raises(ConfigError, match=r"unknown environment 'nowhere'; choose one of: eu, sandbox, staging"):
        load_environment("nowhere")


def test_missing_credential_names_variable(tmp_path):
    environment = load_environment(str(write(tmp_path, VALID)))

    with pytest.raises(ConfigError) as raised:
        read_credentials(environment, environ={"CUSTOM_USERNAME": "someone"})

    assert "environment variable CUSTOM_PASSWORD is not set" in str(raised.value)
    assert "auth.password_variable" in str(raised.value)


def test_md5_password_variable_read(tmp_path):
    text = VALID.replace("password_variable: CUSTOM_PASSWORD", "password_md5_variable: CUSTOM_PASSWORD_MD5")
    environment = load_environment(str(write(tmp_path, text)))

    credentials = read_credentials(
        environment, environ={"CUSTOM_USERNAME": "u", "CUSTOM_PASSWORD_MD5": "8a16a6b70505eb1f1ff7cdc0cd5559a7"}
    )

    assert credentials.password is None
    assert credentials.password_md5 == "8a16a6b70505eb1f1ff7cdc0cd5559a7"


def run_pytest(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-reports", *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=env,
    )


def test_staging_without_credentials_stops_with_one_line():
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAP_STAGING_")}
    result = run_pytest("--env", "staging", env=env)

    assert result.returncode == 4, result.stdout + result.stderr
    error_lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert error_lines == [
        "ERROR: configuration error: missing credential: environment variable CAP_STAGING_USERNAME is not set "
        f"(named by auth.username_variable in {PROJECT_ROOT / 'environments' / 'staging.yaml'}); "
        "export it and run again"
    ]
    assert "Traceback" not in result.stderr


def test_invalid_file_stops_run_before_tests(tmp_path):
    path = write(tmp_path, VALID.replace("max_batch: 10", "max_batch: many"))

    result = run_pytest(f"--env={path}")

    assert result.returncode == 4
    assert "limits.max_batch: 'many' is not of type 'integer'" in result.stderr
    assert " passed" not in result.stdout
    assert " failed" not in result.stdout


def test_base_url_on_sandbox_needs_real_credentials():
    env = {key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")}

    result = run_pytest("--base-url", "http://127.0.0.1:9", env=env)

    assert result.returncode == 4
    assert "environment variable SANDBOX_USERNAME is not set; with --base-url" in result.stderr
