"""Catalogue of the contract rules that the suite checks.

Each rule has a stable ID that tests carry in a ``rule`` marker and that reports show.
``origin`` names where a rule comes from. ``documented`` rules restate the vendor's public
page for ``POST /v2/bulk/getCustomers``, ``platform`` rules come from the vendor's other
public pages (auth, error items), and ``inferred`` rules are behaviour that the page leaves
open, chosen as a careful backend would behave. Every inferred expectation can be changed
per environment under ``expectations`` in the environment file.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    origin: str
    severity: str
    statement: str
    source: str


def _rule(rule_id: str, origin: str, severity: str, statement: str, source: str) -> Rule:
    return Rule(rule_id, origin, severity, statement, source)


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        _rule(
            "ENVELOPE-SCHEMA", "documented", "critical",
            "A 200 response body is an object whose `data` array holds result objects of the documented shape.",
            "Response body: `data` is a list of individual customer-fetch result objects.",
        ),
        _rule(
            "ENVELOPE-NO-ERRORS", "inferred", "major",
            "A 200 answer has no top-level error items; per-customer failures go in each result's `errors`.",
            "Response body sample: the top-level `errors` list is empty; results carry their own errors.",
        ),
        _rule(
            "ENVELOPE-CONTENT-TYPE", "documented", "major",
            "Responses are JSON and say so with `Content-Type: application/json`.",
            "Request query parameters: `format` supports the value `json`.",
        ),
        _rule(
            "ENTITY-SCHEMA", "documented", "critical",
            "Every documented entity field has its documented type, and dates are RFC 3339 date-times.",
            "Response parameters: data.entity.id integer, data.success boolean, lifetimePurchases number.",
        ),
        _rule(
            "ENTITY-COMPLETE", "documented", "major",
            "A successful entity has a profile with names, identifiers and userId, loyaltyInfo, segments and extendedFields.",
            "Response parameters: entity.profiles, loyaltyInfo.loyaltyType, segments and extendedFields.",
        ),
        _rule(
            "RESULT-COUNT", "documented", "critical",
            "`data` holds exactly one result per requested customer ID.",
            "Response parameters: `data` is one result object per requested ID.",
        ),
        _rule(
            "RESULT-IDENTITY", "documented", "critical",
            "Each result's `entity.id` is the customer ID it answers.",
            "Response parameters: data.entity.id is the internal customer ID.",
        ),
        _rule(
            "RESULT-ORDER", "inferred", "minor",
            "Results come in the order of the requested IDs.",
            "The page is silent on order; the sample answers its IDs in request order.",
        ),
        _rule(
            "RESULT-SUCCESS-FLAG", "documented", "critical",
            "`success` is true exactly when the result has no errors and a customer entity with a profile.",
            "Response parameters: data.success is true if this customer-fetch succeeded, false otherwise.",
        ),
        _rule(
            "RESULT-UNKNOWN-ID", "platform", "critical",
            "An unknown customer ID gets `success: false` with a not-found error item (code 8015 or 816).",
            "Vendor error codes: 8015 Customer not found for given identifiers, 816 for organization.",
        ),
        _rule(
            "RESULT-ISOLATION", "inferred", "critical",
            "Unknown IDs in a batch change nothing in the results of the known IDs.",
            "The page is silent; per-ID results imply independent outcomes.",
        ),
        _rule(
            "RESULT-FAILED-REDUCED", "platform", "critical",
            "A failed result's entity, if any, is reduced to its ID: no profile, so no personal data.",
            "Newer page revision: a failed result's entity has only the ID, empty profiles and loyaltyType.",
        ),
        _rule(
            "RESULT-DUPLICATES", "inferred", "major",
            "A repeated customer ID is answered once per occurrence, each time the same.",
            "The page is silent; one result per requested ID implies one per occurrence.",
        ),
        _rule(
            "RESULT-RIGHT-CUSTOMER", "documented", "critical",
            "The entity returned for an ID carries that customer's own profile and identifiers.",
            "Fetch multiple customer profiles by providing a list of customer IDs.",
        ),
        _rule(
            "ENTITY-USERID", "documented", "major",
            "Every profile's `userId` equals the entity's `id`.",
            "Response body sample: profiles[].userId equals entity.id.",
        ),
        _rule(
            "DATA-EMAIL", "documented", "minor",
            "Identifiers and channels of type email carry an email address.",
            "Request query parameters: identifierValue is e.g. an email address.",
        ),
        _rule(
            "DATA-PURCHASES", "inferred", "minor",
            "`loyaltyInfo.lifetimePurchases` is never negative.",
            "Response parameters: total purchase amount over the customer's lifetime.",
        ),
        _rule(
            "REQUEST-MALFORMED", "documented", "critical",
            "A body that is not a JSON array of customer IDs gets 400 with a JSON error body, never 2xx or 5xx.",
            "Error codes: 400 Invalid Request, the request parameters or format were invalid.",
        ),
        _rule(
            "REQUEST-EMPTY", "inferred", "major",
            "An empty list of IDs gets 400.",
            "The page is silent; an empty batch asks for nothing and is treated as invalid.",
        ),
        _rule(
            "REQUEST-BATCH-LIMIT", "inferred", "major",
            "More IDs than the environment's largest batch get 400.",
            "The page is silent on the batch size; the limit is an environment setting.",
        ),
        _rule(
            "REQUEST-CONTENT-TYPE", "inferred", "major",
            "A body not labelled `application/json` gets a 4xx answer.",
            "Sample cURL: the request is sent with `Content-Type: application/json`.",
        ),
        _rule(
            "ERROR-BODY", "platform", "major",
            "Every error response is JSON with an `errors` list of items with `code` and `message`.",
            "Vendor error items carry status, code and message.",
        ),
        _rule(
            "PATH-UNKNOWN", "documented", "major",
            "An unknown path gets 404 with a JSON error body.",
            "Error codes: 404 Resource not found, the requested API endpoint does not exist.",
        ),
        _rule(
            "QUERY-FORMAT", "documented", "major",
            "A `format` other than `json` gets 400.",
            "Request query parameters: format supported value `json`.",
        ),
        _rule(
            "QUERY-FORMAT-REPEATED", "documented", "major",
            "`format=json` given twice is accepted, as in the vendor's own sample.",
            "Sample cURL: `?format=json&format=json`.",
        ),
        _rule(
            "QUERY-IDENTIFIER-NAME", "documented", "major",
            "An `identifierName` other than mobile, email or externalId gets 400.",
            "Request query parameters: identifierName supported mobile, email, externalId.",
        ),
        _rule(
            "QUERY-IDENTIFIER-PAIR", "inferred", "minor",
            "`identifierName` and `identifierValue` come together; one without the other gets 400.",
            "Request query parameters: identifierValue is the value for the chosen identifier.",
        ),
        _rule(
            "QUERY-SOURCE", "platform", "major",
            "An unsupported `source` gets 400 (vendor code 8003, invalid source).",
            "Vendor error codes: 8003 invalid source.",
        ),
        _rule(
            "QUERY-UNKNOWN-PARAMETER", "inferred", "minor",
            "Unknown extra query parameters are ignored.",
            "The page is silent; extra parameters are ignored by most HTTP APIs.",
        ),
        _rule(
            "AUTH-MISSING", "documented", "critical",
            "A request without credentials is refused with 401 or 403.",
            "Prerequisites: Basic or OAuth credentials.",
        ),
        _rule(
            "AUTH-WRONG", "documented", "critical",
            "A request with a wrong password or token is refused with 401 or 403.",
            "Prerequisites: Basic or OAuth credentials.",
        ),
        _rule(
            "AUTH-ACCEPTED", "platform", "critical",
            "Valid Basic credentials (username and md5 of the password) and OAuth tokens are accepted.",
            "Vendor auth pages: Basic base64(username:md5(password)); OAuth token header.",
        ),
        _rule(
            "STABILITY", "inferred", "major",
            "Identical valid requests keep getting 200; the endpoint does not fail intermittently.",
            "Error codes: 500 is an unexpected error, never part of normal operation.",
        ),
        _rule(
            "LATENCY", "inferred", "minor",
            "The p95 latency of full batches stays under the environment's limit.",
            "The page is silent; the limit is an environment setting.",
        ),
        _rule(
            "META-PERMUTATION", "inferred", "major",
            "Permuting the requested IDs permutes the results and changes nothing else.",
            "Per-ID results are independent of their position.",
        ),
        _rule(
            "META-BATCH-INDEPENDENCE", "inferred", "major",
            "The result for an ID is the same alone and inside a larger batch.",
            "Per-ID results are independent of the rest of the batch.",
        ),
        _rule(
            "META-IDEMPOTENT", "inferred", "major",
            "Asking twice in a row gives the same answer, since the endpoint only reads.",
            "The endpoint fetches customers and changes nothing.",
        ),
    ]
}


def get_rule(rule_id: str) -> Rule:
    """Return the rule with this ID, or raise KeyError naming the known IDs."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule ID {rule_id!r}; known IDs: {', '.join(sorted(RULES))}") from None
