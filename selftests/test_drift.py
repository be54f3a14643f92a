"""Self tests of schema drift: undocumented response fields, their paths, masking and the baseline."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from contract_support import drift
from contract_support.client import ENDPOINT, ApiCall
from contract_support.redaction import Redactor

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCUMENTED_BODY = {
    "data": [
        {
            "success": True,
            "errors": [],
            "entity": {
                "id": 400000001,
                "segments": {"anyKey": 1},
                "profiles": [{
                    "userId": 400000001,
                    "firstName": "Jane",
                    "identifiers": [{"type": "mobile", "value": "919000000001"}],
                    "commChannels": [{"type": "email", "value": "jane@example.com", "meta": {"anyFlag": True}}],
                }],
            },
        }
    ],
    "warnings": [],
}


def body_with_extras() -> dict:
    body = json.loads(json.dumps(DOCUMENTED_BODY))
    body["serverInfo"] = {"cluster": "eu-1"}
    result = body["data"][0]
    result["metadata"] = {"servedFrom": "primary"}
    result["entity"]["fraudDetails"] = {"status": "NONE"}
    result["entity"]["profiles"][0]["identifiers"][0]["cardSeries"] = "GOLD"
    result["entity"]["profiles"][0]["commChannels"][0]["unusual key"] = 1
    return body


def make_call(body: object, status: int = 200, content_type: str = "application/json") -> ApiCall:
    return ApiCall(
        method="POST", url="http://127.0.0.1:1" + ENDPOINT, params=[], request_headers={}, request_body=b"[1]",
        status=status, response_headers={"Content-Type": content_type},
        response_body=json.dumps(body).encode(), elapsed_seconds=0.01,
    )


def test_documented_body_has_no_drift():
    assert list(drift.undocumented_fields(DOCUMENTED_BODY, drift.ENVELOPE_SCHEMA)) == []


def test_undocumented_fields_found_at_every_level():
    found = {path: (value, schema) for path, value, schema in drift.undocumented_fields(body_with_extras(), drift.ENVELOPE_SCHEMA)}

    assert found == {
        "$.serverInfo": ({"cluster": "eu-1"}, "response/envelope.schema.json"),
        "$.data[*].metadata": ({"servedFrom": "primary"}, "response/result.schema.json"),
        "$.data[*].entity.fraudDetails": ({"status": "NONE"}, "response/entity.schema.json"),
        "$.data[*].entity.profiles[*].identifiers[*].cardSeries": ("GOLD", "response/identifier.schema.json"),
        '$.data[*].entity.profiles[*].commChannels[*]["unusual key"]': (1, "response/comm-channel.schema.json"),
    }


def test_error_body_drift_uses_error_schema():
    body = {"errors": [{"status": False, "code": 400, "message": "bad", "traceId": "abc"}]}

    found = list(drift.undocumented_fields(body, drift.ERROR_SCHEMA))

    assert found == [("$.errors[*].traceId", "abc", "response/message-item.schema.json")]


@pytest.mark.parametrize(
    ("status", "content_type", "expected"),
    [
        (200, "application/json", drift.ENVELOPE_SCHEMA),
        (400, "application/json; charset=utf-8", drift.ERROR_SCHEMA),
        (200, "text/plain", None),
        (302, "application/json", None),
    ],
)
def test_schema_for_call(status, content_type, expected):
    assert drift.schema_for_call(make_call({}, status, content_type)) == expected


def test_mask_value_keeps_structure():
    masked = drift.mask_value({"name": "Jane", "mobile": 919000000001, "flags": [True, None], "code": ""})

    assert masked == {"name": "J***", "mobile": "<number>", "flags": [True, None], "code": ""}


def test_observe_masks_and_redacts_examples():
    body = body_with_extras()
    body["serverInfo"] = {"owner": "Jane Doe", "token": "s3cr3t-token"}
    collector = drift.SchemaDrift(Redactor(["s3cr3t-token"]), mask_pii=True)

    collector.observe(make_call(body), "tests/test_x.py::test_y")

    example = collector.fields["$.serverInfo"].example
    assert "Jane" not in example
    assert "s3cr3t" not in example
    assert json.loads(example) == {"owner": "J*******", "token": "[REDACTED]"}


def test_observe_reports_each_path_once_per_run():
    collector = drift.SchemaDrift(Redactor(), mask_pii=False)

    first = collector.observe(make_call(body_with_extras()), "t::first")
    second = collector.observe(make_call(body_with_extras()), "t::second")

    assert len(first) == 5
    assert second == []
    assert collector.fields["$.serverInfo"].responses == 2
    assert collector.fields["$.serverInfo"].first_test == "t::first"


def test_baseline_marks_known_and_new_paths(tmp_path):
    baseline = tmp_path / "drift-baseline.json"
    earlier = drift.SchemaDrift(Redactor(), mask_pii=False)
    earlier.observe(make_call({**DOCUMENTED_BODY, "serverInfo": {}}), "t::earlier")
    earlier.write_baseline(baseline)

    collector = drift.SchemaDrift(Redactor(), mask_pii=False, baseline_path=baseline)
    collector.observe(make_call(body_with_extras()), "t::now")
    report = collector.report()

    assert "$.serverInfo" not in report["new_paths"]
    assert "$.data[*].entity.fraudDetails" in report["new_paths"]
    assert len(report["new_paths"]) == 4


def test_baseline_path_not_seen_is_listed(tmp_path):
    baseline = tmp_path / "drift-baseline.json"
    baseline.write_text(json.dumps({"undocumented_fields": {"$.gone": {}}}))

    report = drift.SchemaDrift(Redactor(), mask_pii=False, baseline_path=baseline).report()

    assert report["baseline_paths_not_seen"] == ["$.gone"]


@pytest.mark.parametrize("content", ["not json", "[]", '{"undocumented_fields": []}'])
def test_invalid_baseline_rejected(tmp_path, content):
    baseline = tmp_path / "drift-baseline.json"
    baseline.write_text(content)

    with pytest.raises(ValueError, match="invalid schema drift baseline"):
        drift.load_baseline(baseline)


def run_envelope_tests(reports_dir: pathlib.Path, *options: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name not in ("CI", "GITHUB_ACTIONS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_envelope.py",
         f"--reports-dir={reports_dir}", *options],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )


def test_extra_fields_variant_reported_as_warnings(tmp_path):
    completed = run_envelope_tests(tmp_path, "--sandbox-fault=variant-extra-fields")

    assert completed.returncode == 0, completed.stdout[-3000:]
    report = json.loads((tmp_path / "schema-drift.json").read_text())
    paths = {field["path"] for field in report["undocumented_fields"]}
    assert {"$.serverInfo", "$.data[*].entity.fraudDetails", "$.data[*].entity.profiles[*].attribution"} <= paths
    assert "SchemaDriftWarning: undocumented response field $.data[*].entity.fraudDetails" in completed.stdout
    assert (tmp_path / "drift-baseline.json").is_file()


def test_correct_sandbox_has_no_drift(tmp_path):
    completed = run_envelope_tests(tmp_path)

    assert completed.returncode == 0, completed.stdout[-3000:]
    report = json.loads((tmp_path / "schema-drift.json").read_text())
    assert report["undocumented_fields"] == []
    assert "schema drift: no undocumented response fields" in completed.stdout
