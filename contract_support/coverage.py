"""Rule coverage matrix: each catalogued rule, the tests that check it and their outcomes.

The matrix is built from the ``tests`` entries of results.json (node ID, rule IDs, outcome)
and the catalogue in ``contract_support.rules``. A rule that no collected test carries is
listed as uncovered, so a rule added to the catalogue without a test shows up at once.
"""

from __future__ import annotations

import html
import json
import pathlib
from collections.abc import Iterable, Mapping
from typing import Any

from contract_support.rules import Rule

UNCOVERED = "uncovered"
# Outcome, for one of a test's rules, of a test that failed on another of its rules first:
# the checks of this rule did not run to the end.
BLOCKED = "blocked"
# A rule's status is the first of these outcomes among its tests. "blocked" ranks below
# "passed", so a rule that another test checked in full keeps that verdict.
_STATUS_ORDER = ("error", "failed", "passed", BLOCKED, "skipped", "deselected")


def rule_status(outcomes: Iterable[str]) -> str:
    """Return a rule's status from its tests' outcomes: error, failed, passed, skipped or uncovered."""
    present = set(outcomes)
    if not present:
        return UNCOVERED
    return next((status for status in _STATUS_ORDER if status in present), sorted(present)[0])


def build_matrix(rules: Mapping[str, Rule], tests: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return one row per catalogued rule with its tests, outcome counts and status."""
    tests_by_rule: dict[str, list[dict[str, Any]]] = {rule_id: [] for rule_id in rules}
    for test in tests:
        violated = test.get("violated_rule")
        test_rules = list(test.get("rules") or [])
        # A violation names the rule it broke, which may be one the test does not carry, such as
        # a broken envelope met by a data-quality test. That rule failed too.
        if violated and violated not in test_rules:
            test_rules.append(violated)
        for rule_id in test_rules:
            outcome = test["outcome"]
            if outcome == "failed" and violated and rule_id != violated:
                outcome = BLOCKED
            cell = {
                "nodeid": test["nodeid"],
                "outcome": outcome,
                "failure_class": test.get("failure_class"),
                "violated_rule": violated,
            }
            tests_by_rule.setdefault(rule_id, []).append(cell)

    rows = []
    for rule_id, rule_tests in tests_by_rule.items():
        rule = rules.get(rule_id)
        counts: dict[str, int] = {}
        for cell in rule_tests:
            counts[cell["outcome"]] = counts.get(cell["outcome"], 0) + 1
        rows.append({
            "rule": rule_id,
            "severity": rule.severity if rule else None,
            "origin": rule.origin if rule else None,
            "statement": rule.statement if rule else "(not in the rule catalogue)",
            "source": rule.source if rule else None,
            "status": rule_status(counts),
            "outcomes": counts,
            "tests": rule_tests,
        })
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Count rules per status, plus the total."""
    counts = {"rules": len(rows)}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def _outcome_text(row: Mapping[str, Any]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(row["outcomes"].items())) or "no test"


def to_markdown(rows: list[dict[str, Any]], environment: str) -> str:
    """Render the matrix as a Markdown page: a table of rules, then the uncovered ones."""
    counts = summarize(rows)
    lines = [
        f"# Rule coverage: {environment}",
        "",
        f"{counts['rules']} rules: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()) if status != "rules"),
        "",
        "| Rule | Severity | Origin | Status | Tests | Statement |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        statement = row["statement"].replace("|", "\\|")
        lines.append(
            f"| {row['rule']} | {row['severity']} | {row['origin']} | {row['status']} | {_outcome_text(row)} | {statement} |"
        )
    uncovered = [row["rule"] for row in rows if row["status"] == UNCOVERED]
    lines += ["", "Uncovered rules: " + (", ".join(uncovered) if uncovered else "none"), ""]
    return "\n".join(lines)


def to_html(rows: list[dict[str, Any]], environment: str) -> str:
    """Render the matrix as a standalone HTML page with an anchor per rule, for links from the Allure report."""
    body = []
    for row in rows:
        tests = "".join(
            f"<li>{html.escape(cell['nodeid'])}: {html.escape(cell['outcome'])}"
            + (f" ({html.escape(cell['violated_rule'])} violated)" if cell.get("violated_rule") else "")
            + "</li>"
            for cell in row["tests"]
        )
        body.append(
            f'<tr id="{html.escape(row["rule"])}" class="{html.escape(row["status"])}">'
            f"<td>{html.escape(row['rule'])}</td><td>{html.escape(str(row['severity']))}</td>"
            f"<td>{html.escape(str(row['origin']))}</td><td>{html.escape(row['status'])}</td>"
            f"<td>{html.escape(row['statement'])}<br><small>Source: {html.escape(str(row['source']))}</small></td>"
            f"<td><ul>{tests}</ul></td></tr>"
        )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Rule coverage: {html.escape(environment)}</title><style>"
        "body{font-family:sans-serif}td{vertical-align:top;border-top:1px solid #ccc;padding:4px}"
        ".failed,.error{background:#fdd}.uncovered{background:#ffd}.passed{background:#efe}"
        "</style></head><body>"
        f"<h1>Rule coverage: {html.escape(environment)}</h1><table>"
        "<tr><th>Rule</th><th>Severity</th><th>Origin</th><th>Status</th><th>Statement</th><th>Tests</th></tr>"
        + "".join(body)
        + "</table></body></html>\n"
    )


def write_matrix(rows: list[dict[str, Any]], folder: pathlib.Path, environment: str) -> list[pathlib.Path]:
    """Write rule-coverage.json, rule-coverage.md and rule-coverage.html into ``folder``."""
    json_path = folder / "rule-coverage.json"
    json_path.write_text(
        json.dumps({"environment": environment, "summary": summarize(rows), "rules": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    markdown_path = folder / "rule-coverage.md"
    markdown_path.write_text(to_markdown(rows, environment), encoding="utf-8")
    html_path = folder / "rule-coverage.html"
    html_path.write_text(to_html(rows, environment), encoding="utf-8")
    return [json_path, markdown_path, html_path]
