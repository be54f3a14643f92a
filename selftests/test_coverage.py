"""Self tests of the rule coverage matrix: outcomes per rule and uncovered rules."""

import json

from contract_support import coverage
from contract_support.rules import Rule

RULES = {
    "RULE-A": Rule("RULE-A", "documented", "critical", "A holds.", "Page sentence A."),
    "RULE-B": Rule("RULE-B", "inferred", "minor", "B holds.", "Page sentence B."),
    "RULE-C": Rule("RULE-C", "platform", "major", "C | holds.", "Page sentence C."),
}
TESTS = [
    {"nodeid": "tests/test_x.py::test_a_passes", "rules": ["RULE-A"], "outcome": "passed"},
    {"nodeid": "tests/test_x.py::test_a_and_b_fail", "rules": ["RULE-A", "RULE-B"], "outcome": "failed",
     "failure_class": "schema violation", "violated_rule": "RULE-A"},
    {"nodeid": "tests/test_x.py::test_b_skipped", "rules": ["RULE-B"], "outcome": "skipped"},
]


def row_of(rows, rule_id):
    return next(row for row in rows if row["rule"] == rule_id)


def test_rule_without_test_is_uncovered():
    rows = coverage.build_matrix(RULES, TESTS)

    assert row_of(rows, "RULE-C")["status"] == "uncovered"
    assert row_of(rows, "RULE-C")["tests"] == []


def test_rule_status_is_worst_outcome():
    rows = coverage.build_matrix(RULES, TESTS)

    assert row_of(rows, "RULE-A")["status"] == "failed"
    assert row_of(rows, "RULE-A")["outcomes"] == {"passed": 1, "failed": 1}


def test_rule_of_test_failed_elsewhere_is_blocked():
    rows = coverage.build_matrix(RULES, TESTS)

    assert row_of(rows, "RULE-B")["outcomes"] == {"blocked": 1, "skipped": 1}
    assert row_of(rows, "RULE-B")["status"] == "blocked"


def test_violated_rule_outside_markers_counts_as_failed():
    tests = [{"nodeid": "t::x", "rules": ["RULE-B"], "outcome": "failed", "violated_rule": "RULE-C"}]

    rows = coverage.build_matrix(RULES, tests)

    assert row_of(rows, "RULE-C")["status"] == "failed"
    assert row_of(rows, "RULE-B")["status"] == "blocked"


def test_deselected_rule_not_uncovered():
    rows = coverage.build_matrix(RULES, [{"nodeid": "t::x", "rules": ["RULE-C"], "outcome": "deselected"}])

    assert row_of(rows, "RULE-C")["status"] == "deselected"


def test_rule_status_order():
    assert coverage.rule_status(["passed", "error", "failed"]) == "error"
    assert coverage.rule_status(["skipped", "passed"]) == "passed"
    assert coverage.rule_status(["skipped"]) == "skipped"
    assert coverage.rule_status(["blocked", "passed"]) == "passed"
    assert coverage.rule_status(["blocked", "skipped"]) == "blocked"
    assert coverage.rule_status([]) == "uncovered"


def test_unknown_rule_id_gets_its_own_row():
    rows = coverage.build_matrix(RULES, [{"nodeid": "t::x", "rules": ["RULE-Z"], "outcome": "passed"}])

    assert row_of(rows, "RULE-Z")["statement"] == "(not in the rule catalogue)"


def test_summary_counts_rules_per_status():
    rows = coverage.build_matrix(RULES, TESTS)

    assert coverage.summarize(rows) == {"rules": 3, "failed": 1, "blocked": 1, "uncovered": 1}


def test_markdown_lists_uncovered_rules_and_escapes_pipes():
    text = coverage.to_markdown(coverage.build_matrix(RULES, TESTS), "sandbox")

    assert "Uncovered rules: RULE-C" in text
    assert "| RULE-A | critical | documented | failed | 1 failed, 1 passed | A holds. |" in text
    assert "C \\| holds." in text


def test_html_has_anchor_per_rule():
    text = coverage.to_html(coverage.build_matrix(RULES, TESTS), "sandbox")

    for rule_id in RULES:
        assert f'id="{rule_id}"' in text
    assert "(RULE-A violated)" in text


def test_write_matrix_writes_three_files(tmp_path):
    paths = coverage.write_matrix(coverage.build_matrix(RULES, TESTS), tmp_path, "sandbox")

    assert sorted(path.name for path in paths) == ["rule-coverage.html", "rule-coverage.json", "rule-coverage.md"]
    document = json.loads((tmp_path / "rule-coverage.json").read_text())
    assert document["summary"]["uncovered"] == 1
    assert [row["rule"] for row in document["rules"]] == ["RULE-A", "RULE-B", "RULE-C"]
