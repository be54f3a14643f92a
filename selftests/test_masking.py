"""Self tests of personal-data masking: the masking functions, and a run whose reports must show no real value.

The deleted-leaks-pii fault puts deleted customers' profiles into failed results, so the
failure message of the deleted-customer test carries names, emails and mobile numbers. With
``mask_pii: true`` none of them may reach a file or the output of the run; without it they
do, which shows that the scan can find them.
"""

from __future__ import annotations

import re

import pytest

from contract_support.masking import PiiMasker, mask_email, mask_mobile, mask_name
from test_flaky_network import ENVIRONMENTS, SuiteRun, finish_suite, start_suite

# Personal data of the sandbox's synthetic customers: last names, emails and mobile numbers.
SANDBOX_PERSONAL_DATA = re.compile(r"Customer\d{4}|customer\d+@example\.com|919\d{9}")
FAULT_ARGUMENTS = ["--sandbox-fault", "deleted-leaks-pii", "tests/test_results.py"]


@pytest.mark.parametrize(
    ("masker", "value", "expected"),
    [
        (mask_name, "John", "Jo**"),
        (mask_name, "Jonas", "Jo***"),
        (mask_name, "Li", "L*"),
        (mask_email, "customer@example.com", "c*******@e******.com"),
        (mask_email, "a@b.co.uk", "a@b***.uk"),
        (mask_mobile, "919000000001", "91********01"),
        (mask_mobile, "12345", "*****"),
    ],
)
def test_mask_keeps_shape(masker, value, expected):
    assert masker(value) == expected


def test_masker_masks_json_by_key_and_type():
    masker = PiiMasker()
    body = {
        "firstName": "Sandbox",
        "lastName": "Customer0001",
        "identifiers": [{"type": "mobile", "value": "919000000001"}, {"type": "externalId", "value": "EXT-1"}],
        "note": "write to customer1@example.com",
    }

    masked = masker.json_value(body)

    assert masked["firstName"] == "Sa*****"
    assert masked["lastName"] == "Cu**********"
    assert masked["identifiers"][0]["value"] == "91********01"
    assert masked["identifiers"][1]["value"] == "EXT-1"
    assert masked["note"] == "write to c********@e******.com"


def test_masker_masks_learned_values_in_text():
    masker = PiiMasker()
    masker.learn('{"lastName": "Customer0001", "mobile": "919000000001"}')

    text = masker.text("Value: 'Customer0001' at identifierValue=919000000001")

    assert text == "Value: 'Cu**********' at identifierValue=91********01"


def test_masker_leaves_short_names_out_of_text():
    masker = PiiMasker()
    masker.learn('{"firstName": "Al"}')

    assert masker.text("Alpha") == "Alpha"


def find_personal_data(run: SuiteRun) -> list[str]:
    """Return one line per file or stream of the run that contains sandbox personal data."""
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for path in sorted(run.reports.parent.rglob("*")):
        if path.is_file():
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    return [f"{match.group(0)!r} in {where}" for where, text in texts.items() if (match := SANDBOX_PERSONAL_DATA.search(text))]


@pytest.fixture(scope="module")
def masked_runs(tmp_path_factory) -> dict[str, SuiteRun]:
    masked = ["--env", str(ENVIRONMENTS / "safety-masked.yaml")]
    runs = {
        "masked-fault": [*masked, *FAULT_ARGUMENTS],
        "unmasked-fault": FAULT_ARGUMENTS,
        "masked-correct": [*masked, "tests/test_results.py", "tests/test_query.py"],
    }
    started = {name: start_suite(tmp_path_factory.mktemp(name), *arguments) for name, arguments in runs.items()}
    return {name: finish_suite(*process_and_reports) for name, process_and_reports in started.items()}


def test_masked_run_writes_no_personal_data(masked_runs):
    run = masked_runs["masked-fault"]

    messages = " ".join(test.get("message", "") for test in run.results()["tests"])

    assert run.junit_counts()["failures"] > 0, run.output()
    assert "@e******.com" in messages, "no masked email in the failure messages of results.json"
    assert find_personal_data(run) == []


def test_unmasked_run_shows_personal_data(masked_runs):
    run = masked_runs["unmasked-fault"]

    assert run.junit_counts()["failures"] > 0, run.output()
    assert find_personal_data(run) != []


def test_checks_see_real_values_when_masked(masked_runs):
    run = masked_runs["masked-correct"]

    assert run.returncode == 0, run.output()
    assert find_personal_data(run) == []
