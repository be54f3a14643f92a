"""pytest plugin of the contract suite: options, environment, fixtures and the embedded sandbox.

The environment file and its credentials are checked in ``pytest_configure``, so a bad file
or an unset variable stops the run with one line before any test is collected. With an
embedded sandbox environment the session starts the sandbox on a free loopback port.
"""

from __future__ import annotations

import logging
import os
import pathlib
import secrets
from collections.abc import Iterator

import pytest

from contract_support import rules
from contract_support.auth import OAuthTokenAuth, build_auth
from contract_support.budget import BUDGET_KEY
from contract_support.checks import ContractChecker
from contract_support.client import ApiClient
from contract_support.config import (
    ConfigError,
    Credentials,
    Environment,
    credential_variables,
    load_environment,
    validate_base_url,
    read_credentials,
)
from contract_support.redaction import Redactor
from contract_support.reporting import CallRecorder

log = logging.getLogger(__name__)

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
ENVIRONMENT_KEY = pytest.StashKey[Environment]()
CREDENTIALS_KEY = pytest.StashKey[Credentials]()
REDACTOR_KEY = pytest.StashKey[Redactor]()
RECORDER_KEY = pytest.StashKey[CallRecorder]()
# Variables the embedded sandbox reads for its OAuth key pair, beside the Basic ones.
SANDBOX_OAUTH_VARIABLES = ("SANDBOX_OAUTH_KEY", "SANDBOX_OAUTH_SECRET")
SANDBOX_BASIC_VARIABLES = ("SANDBOX_USERNAME", "SANDBOX_PASSWORD")


def sandbox_credential_variables(environment: Environment) -> dict[str, str]:
    """Return the variable of each embedded-sandbox credential, keyed by its sandbox field.

    The sandbox accepts Basic and OAuth at once. The environment file's auth block names the
    variables of its own scheme, and the other scheme uses the SANDBOX_ variables.
    """
    auth = environment.auth
    return {
        "username": auth.get("username_variable", SANDBOX_BASIC_VARIABLES[0]),
        "password": auth.get("password_variable", SANDBOX_BASIC_VARIABLES[1]),
        "oauth_key": auth.get("key_variable", SANDBOX_OAUTH_VARIABLES[0]),
        "oauth_secret": auth.get("secret_variable", SANDBOX_OAUTH_VARIABLES[1]),
    }


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "Get Customers Bulk contract suite")
    group.addoption(
        "--env", dest="contract_env", default=os.environ.get("CONTRACT_ENV", "sandbox"),
        help="environment name in environments/ or path to a YAML file (default: $CONTRACT_ENV or sandbox)",
    )
    group.addoption("--base-url", dest="contract_base_url", default=None, help="override the environment's base URL")
    group.addoption(
        "--sandbox-fault", dest="sandbox_fault", default=None,
        help="make the embedded sandbox play this named fault or variant (python -m contract_support.sandbox --list-faults)",
    )
    group.addoption(
        "--reports-dir", dest="contract_reports_dir", default=None,
        help="folder for the HTML report, Allure results and results.json (default: reports/<env>)",
    )
    group.addoption(
        "--no-reports", dest="contract_reports", action="store_false", default=True,
        help="write no HTML report, Allure results or results.json",
    )


def _is_self_test_run(config: pytest.Config) -> bool:
    paths = [arg.split("::", 1)[0] for arg in config.args]
    self_tests = PROJECT_ROOT / "selftests"
    return bool(paths) and all(pathlib.Path(path).resolve().is_relative_to(self_tests) for path in paths)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(*ids): contract rule IDs the test checks, from contract_support.rules")
    config.addinivalue_line("markers", "smoke: small read-only checks that are safe on production")
    if _is_self_test_run(config):
        return

    try:
        environment = load_environment(config.getoption("contract_env"))
        base_url = config.getoption("contract_base_url")
        if base_url is not None:
            validate_base_url(base_url)
            environment = environment.with_base_url(base_url)
        if environment.embedded_sandbox and not base_url:
            _provide_sandbox_credentials(environment)
        elif environment.embedded_sandbox:
            # The run starts no sandbox, so generated credentials would only earn 401s.
            for name in credential_variables(environment):
                if not os.environ.get(name):
                    raise ConfigError(
                        f"missing credential: environment variable {name} is not set; with --base-url the run "
                        "targets a sandbox you started, so export the credentials it accepts"
                    )
        elif environment.base_url is None:
            raise ConfigError(f"{environment.path}: base_url is missing; set it or pass --base-url")
        credentials = read_credentials(environment)
    except ConfigError as error:
        raise pytest.UsageError(f"configuration error: {error}") from None

    fault = config.getoption("sandbox_fault")
    if fault and not environment.embedded_sandbox:
        raise pytest.UsageError(
            f"configuration error: --sandbox-fault needs an embedded sandbox environment, not {environment.name!r}"
        )
    if fault:
        from contract_support.sandbox.faults import FAULTS

        if fault not in FAULTS:
            raise pytest.UsageError(
                f"configuration error: unknown --sandbox-fault {fault!r}; "
                "list the names with: python -m contract_support.sandbox --list-faults"
            )

    redactor = Redactor(credentials.secrets())
    sandbox_variables = list(sandbox_credential_variables(environment).values()) if environment.embedded_sandbox else []
    for name in credential_variables(environment) + sandbox_variables:
        redactor.add_secret(os.environ.get(name) if "USERNAME" not in name else None)
    config.stash[ENVIRONMENT_KEY] = environment
    config.stash[CREDENTIALS_KEY] = credentials
    config.stash[REDACTOR_KEY] = redactor
    config.stash[RECORDER_KEY] = recorder = CallRecorder(redactor)
    config.pluginmanager.register(recorder, "contract-call-recorder")

    if config.getoption("contract_reports"):
        _configure_reports(config, environment)


def _provide_sandbox_credentials(environment: Environment) -> None:
    """Generate credentials for an embedded sandbox whose variables are unset.

    The sandbox is started by this run, so any value works; workers started later inherit them.
    """
    for name in credential_variables(environment) + list(sandbox_credential_variables(environment).values()):
        if not os.environ.get(name):
            os.environ[name] = ("sandbox-" if "USERNAME" in name else "") + secrets.token_urlsafe(18)


def _configure_reports(config: pytest.Config, environment: Environment) -> None:
    folder = config.getoption("contract_reports_dir") or str(PROJECT_ROOT / "reports" / environment.name)
    folder_path = pathlib.Path(folder)
    folder_path.mkdir(parents=True, exist_ok=True)
    config.stash[RECORDER_KEY].reports_dir = folder_path

    if getattr(config.option, "htmlpath", None) is None and config.pluginmanager.hasplugin("html"):
        config.option.htmlpath = str(folder_path / "report.html")
        config.option.self_contained_html = True
    if getattr(config.option, "allure_report_dir", None) is None and config.pluginmanager.hasplugin("allure_pytest"):
        config.option.allure_report_dir = str(folder_path / "allure-results")
        config.option.clean_alluredir = True


def pytest_report_header(config: pytest.Config) -> list[str]:
    environment = config.stash.get(ENVIRONMENT_KEY, None)
    if environment is None:
        return []
    target = "embedded sandbox on 127.0.0.1" if environment.embedded_sandbox else environment.base_url
    lines = [f"contract environment: {environment.name} ({environment.path}), target: {target}"]
    fault = config.getoption("sandbox_fault")
    if fault:
        lines.append(f"sandbox fault: {fault}")
    recorder = config.stash[RECORDER_KEY]
    if recorder.reports_dir is not None:
        lines.append(f"reports: {recorder.reports_dir}")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers("rule"):
            for rule_id in marker.args:
                if rule_id not in rules.RULES:
                    raise pytest.UsageError(f"{item.nodeid}: unknown rule ID {rule_id!r} in its rule marker")


# Fixtures.


@pytest.fixture(scope="session")
def environment(pytestconfig: pytest.Config) -> Iterator[Environment]:
    """Yield the chosen environment, starting the embedded sandbox first if the environment has one."""
    try:
        environment = pytestconfig.stash[ENVIRONMENT_KEY]
    except KeyError:
        pytest.fail("the contract environment was not loaded; run the contract suite from tests/", pytrace=False)
    if not environment.embedded_sandbox or pytestconfig.getoption("contract_base_url"):
        yield environment
        return

    from contract_support.sandbox.server import SandboxServer
    from contract_support.sandbox.settings import Credentials as SandboxCredentials
    from contract_support.sandbox.settings import SandboxSettings

    variables = sandbox_credential_variables(environment)
    server = SandboxServer(
        SandboxCredentials(**{field: os.environ[name] for field, name in variables.items()}),
        fault=pytestconfig.getoption("sandbox_fault"),
        settings=SandboxSettings(max_batch=environment.limits.max_batch),
    )
    base_url = server.start()
    log.info("embedded sandbox listening on %s", base_url)
    try:
        yield environment.with_base_url(base_url)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redactor(pytestconfig: pytest.Config) -> Redactor:
    return pytestconfig.stash[REDACTOR_KEY]


@pytest.fixture(scope="session")
def credentials(pytestconfig: pytest.Config) -> Credentials:
    return pytestconfig.stash[CREDENTIALS_KEY]


@pytest.fixture(scope="session")
def api(pytestconfig: pytest.Config, environment: Environment, credentials: Credentials, redactor: Redactor) -> ApiClient:
    """Return the run's HTTP client, authenticated as the environment file specifies."""
    request_budget = pytestconfig.stash[BUDGET_KEY]
    client = ApiClient(
        environment, build_auth(environment, credentials), redactor, before_request=request_budget.acquire
    )
    client.listeners.append(pytestconfig.stash[RECORDER_KEY].record)
    request_budget.track(client)
    if isinstance(client.auth, OAuthTokenAuth):
        # Token requests get the same retries on throttling and gateway errors as API calls.
        client.auth.session = client.session
    return client


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config, environment: Environment) -> ContractChecker:
    """Return the checker. It writes its messages with the reports' redactor, which masks personal data if mask_pii is set."""
    return ContractChecker(environment, pytestconfig.stash[RECORDER_KEY].redactor)


@pytest.fixture(scope="session")
def known_ids(environment: Environment) -> tuple[int, ...]:
    """Return the known customer IDs, at most a full batch of them, so tests can send them in one request."""
    return environment.test_data.known_customer_ids[: environment.limits.max_batch]


@pytest.fixture(scope="session")
def unknown_ids(environment: Environment) -> tuple[int, ...]:
    return environment.test_data.unknown_customer_ids


@pytest.fixture(scope="session")
def full_batch(environment: Environment) -> list[int]:
    """Return a batch of the largest allowed size, cycling through the known and unknown IDs."""
    pool = [*environment.test_data.known_customer_ids, *environment.test_data.unknown_customer_ids]
    return [pool[index % len(pool)] for index in range(environment.limits.max_batch)]


@pytest.fixture(scope="session")
def scan_ids(environment: Environment) -> list[int]:
    """IDs to read for data-quality checks: the scan range if the environment has one, else the known IDs."""
    scan = environment.test_data.scan_range
    if scan is None:
        return list(environment.test_data.known_customer_ids)
    first, count = scan
    return list(range(first, first + min(count, environment.limits.max_batch)))
