"""pytest plugin that keeps runs against real clusters safe and their red results honest.

- Failure classes: a test that ends in ``InfrastructureError`` (retries used up, a timeout, a
  dropped connection) is reported as an *error* of class ``infrastructure`` in the terminal,
  JUnit XML and results.json. Allure shows it as broken. A red run therefore means a broken
  contract only when it has failures.
- Leaks: exception messages, captured logs and captured output of each test report go
  through the run's redactor, and through the personal-data masker when the environment
  sets ``mask_pii``.
- Production guard: on an environment with ``production: true`` only tests marked ``smoke``
  run, unless the run passes ``--allow-production-floods``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from contract_support import failures
from contract_support.client import ApiCall
from contract_support.masking import MaskingRedactor, PiiMasker
from contract_support.plugin import ENVIRONMENT_KEY, RECORDER_KEY, REDACTOR_KEY
from contract_support.reporting import failure_class

try:
    import allure
except ImportError:  # pragma: no cover - allure-pytest is a pinned requirement
    allure = None

log = logging.getLogger(__name__)

MASKER_KEY = pytest.StashKey[PiiMasker]()
DESELECTED_KEY = pytest.StashKey[int]()
# Kept in report.user_properties, which pytest-xdist sends from the workers to the controller.
INFRASTRUCTURE_PROPERTY = ("failure_class", failures.INFRASTRUCTURE)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract")
    group.addoption(
        "--allow-production-floods", dest="allow_production_floods", action="store_true", default=False,
        help="on an environment marked production: true, run every test, generated and negative ones "
        "included, instead of the smoke tests alone",
    )


def pytest_configure(config: pytest.Config) -> None:
    environment = config.stash.get(ENVIRONMENT_KEY, None)
    if environment is None or not environment.mask_pii:
        return

    identifier = environment.test_data.identifier
    known = [(identifier.type, identifier.value)] if identifier.type in ("mobile", "email") else []
    masker = PiiMasker(known)
    config.stash[MASKER_KEY] = masker

    # Every text of the reports (attachments, call summaries, results.json messages) goes
    # through the recorder's redactor, so masking there covers them all.
    recorder = config.stash[RECORDER_KEY]
    recorder.redactor = MaskingRedactor(config.stash[REDACTOR_KEY], masker)
    recorder.listeners.append(_learn_personal_data(masker))


def _learn_personal_data(masker: PiiMasker):
    def learn(call: ApiCall, nodeid: str) -> None:
        masker.learn(call.response_body)

    return learn


def pytest_report_header(config: pytest.Config) -> list[str]:
    environment = config.stash.get(ENVIRONMENT_KEY, None)
    if environment is None:
        return []

    lines = []
    if environment.production and config.getoption("allow_production_floods"):
        lines.append(
            f"PRODUCTION GUARD OFF: {environment.name} is production and --allow-production-floods is set, "
            "so generated and negative tests run against it"
        )
    elif environment.production:
        lines.append(
            f"production guard: {environment.name} is production, so only tests marked smoke run "
            "(pass --allow-production-floods to run all)"
        )
    if environment.mask_pii:
        lines.append("personal data: names, emails and mobile numbers are masked in reports (mask_pii)")
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect every test without the smoke marker on a production environment."""
    environment = config.stash.get(ENVIRONMENT_KEY, None)
    if environment is None or not environment.production or config.getoption("allow_production_floods"):
        return

    smoke_tests = [item for item in items if item.get_closest_marker("smoke") is not None]
    deselected = [item for item in items if item.get_closest_marker("smoke") is None]
    config.stash[DESELECTED_KEY] = len(deselected)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = smoke_tests


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    deselected = config.stash.get(DESELECTED_KEY, None)
    if deselected is None:
        return []
    return [f"production guard: {deselected} tests not marked smoke deselected, {len(items)} smoke tests selected"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Mask personal data in the test parameters that Allure lists for the test."""
    masker = item.config.stash.get(MASKER_KEY, None)
    callspec = getattr(item, "callspec", None)
    if masker is None or callspec is None or allure is None:
        return
    for name, value in callspec.params.items():
        shown = str(value)
        if masker.text(shown) != shown:
            allure.dynamic.parameter(name, masker.text(shown))


# Failure classes and clean reports.


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Clean the exception before any plugin renders it, then classify and clean the report.

    The exception message is rewritten in place before the report is built, because pytest,
    pytest-html, JUnit XML, Allure and results.json each render it on their own. The checks
    ran already, so they saw the real values.
    """
    config = item.config
    clean = _text_cleaner(config)
    if call.excinfo is not None:
        _clean_exception(call.excinfo.value, clean)

    report: pytest.TestReport = yield

    report.sections = [(title, clean(content)) for title, content in report.sections]
    report.longrepr = _clean_longrepr(report.longrepr, clean, set())

    # pytest counts an exception raised in the test body as a failure, and only a failed
    # setup or teardown as an error. The report keeps when="call", which other plugins rely
    # on, and the mark below makes pytest_report_teststatus and the JUnit hook report an error.
    if report.failed and report.when == "call" and failure_class(call.excinfo) == failures.INFRASTRUCTURE:
        report.user_properties.append(INFRASTRUCTURE_PROPERTY)
    return report


def _text_cleaner(config: pytest.Config):
    redactor = config.stash.get(REDACTOR_KEY, None)
    masker = config.stash.get(MASKER_KEY, None)

    def clean(text: str) -> str:
        if redactor is not None:
            text = redactor.text(text)
        if masker is not None:
            text = masker.text(text)
        return text

    return clean


def _clean_exception(error: BaseException, clean) -> None:
    if error.args and isinstance(error.args[0], str):
        error.args = (clean(error.args[0]), *error.args[1:])
    message = getattr(error, "msg", None)
    if isinstance(message, str):
        # pytest.fail() and pytest.skip() keep their message in .msg.
        error.msg = clean(message)
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list):
        # Hypothesis adds the falsifying example as a note.
        error.__notes__ = [clean(note) if isinstance(note, str) else note for note in notes]


def _clean_longrepr(value: Any, clean, visited: set[int]) -> Any:
    """Clean every string inside a report's traceback representation, in place where it is mutable.

    The traceback shows the test function's arguments, so a fixture whose repr contains a
    secret (or, with --showlocals, any local variable) would reach every report without this.
    NOTE: it walks the classes of _pytest._code.code (ExceptionChainRepr, ReprEntry,
    ReprFuncArgs and the like) through their attributes, checked against pytest 9.2.
    """
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, tuple):
        return tuple(_clean_longrepr(item, clean, visited) for item in value)
    if isinstance(value, list):
        value[:] = [_clean_longrepr(item, clean, visited) for item in value]
        return value
    if type(value).__module__ == "_pytest._code.code" and hasattr(value, "__dict__") and id(value) not in visited:
        visited.add(id(value))
        for name, item in list(vars(value).items()):
            # Some of these classes are frozen dataclasses.
            object.__setattr__(value, name, _clean_longrepr(item, clean, visited))
    return value


def is_infrastructure_error(report: pytest.TestReport) -> bool:
    return INFRASTRUCTURE_PROPERTY in getattr(report, "user_properties", ())


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, Any] | None:
    if report.when == "call" and report.failed and is_infrastructure_error(report):
        return "error", "E", ("ERROR", {"red": True})
    return None


class JUnitErrorPlugin:
    """Turns the JUnit ``<failure>`` of an infrastructure error into ``<error>``.

    pytest's JUnit writer offers no hook for this: it writes ``<failure>`` for every failed
    call phase. This plugin runs after the writer and renames the element and its count.
    NOTE: it reads internals of _pytest.junitxml (LogXML.node_reporter and .stats,
    _NodeReporter.nodes), checked against pytest 9.2.
    """

    def __init__(self, log_xml: Any):
        self.log_xml = log_xml

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not (report.when == "call" and report.failed and is_infrastructure_error(report)):
            return
        reporter = self.log_xml.node_reporter(report)
        for node in reversed(reporter.nodes):
            if node.tag == "failure":
                node.tag = "error"
                self.log_xml.stats["failure"] -= 1
                self.log_xml.stats["error"] += 1
                return
        log.warning("no JUnit <failure> element found for infrastructure error %s", report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    from _pytest.junitxml import xml_key

    log_xml = session.config.stash.get(xml_key, None)
    if log_xml is not None:
        session.config.pluginmanager.register(JUnitErrorPlugin(log_xml), "contract-junit-errors")


def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    """Label infrastructure errors in the pytest-html table, which decides outcomes by test phase.

    NOTE: pytest-html 4.2 offers no hook for the outcome itself, so its counters and filters
    still count these tests as failed; only the row's label reads error.
    """
    if is_infrastructure_error(report) and cells and 'class="col-result"' in cells[0]:
        cells[0] = '<td class="col-result">Error (infrastructure)</td>'

