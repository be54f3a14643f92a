"""Catalogue of the sandbox's faults, variants and network modes.

- A *fault* breaks exactly one contract rule, named by its rule ID; the suite
  must catch it.
- A *variant* is harmless: real servers respond this way too, and the suite
  must not flag it.
- A *network* mode fails some requests the way a network or cluster does; a
  client that retries must get through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import contract_faults as cf
from . import network, variants
from .hooks import Hooks
from .settings import SandboxSettings

KINDS = ("fault", "variant", "network")


@dataclass(frozen=True)
class Fault:
    """One entry of the catalogue: its name, kind, the rule it breaks and what the server does wrong."""

    name: str
    kind: str
    rule: str
    description: str
    hooks: Callable[[SandboxSettings], Hooks] = field(repr=False, compare=False)


def _fault(name: str, rule: str, description: str, hooks: Callable[[SandboxSettings], Hooks]) -> Fault:
    return Fault(name, "fault", rule, description, hooks)


def _variant(name: str, description: str, hooks: Callable[[SandboxSettings], Hooks]) -> Fault:
    return Fault(name, "variant", "", description, hooks)


def _network(name: str, description: str, hooks: Callable[[SandboxSettings], Hooks]) -> Fault:
    return Fault(name, "network", "", description, hooks)


_CATALOGUE = [
    _fault("envelope-missing-data", "ENVELOPE-SCHEMA", "The 200 body lacks the data list.", cf.EnvelopeMissingData),
    _fault("envelope-data-object", "ENVELOPE-SCHEMA", "The data member is an object keyed by customer ID instead of a list.", cf.EnvelopeDataObject),
    _fault("envelope-extra-wrapper", "ENVELOPE-SCHEMA", "The 200 body is wrapped as {\"response\": <envelope>}.", cf.EnvelopeExtraWrapper),
    _fault(
        "envelope-errors", "ENVELOPE-NO-ERRORS",
        "The 200 body carries a top-level error item, code 500 with message partial failure, next to unchanged results.",
        cf.EnvelopeErrors,
    ),
    _fault("text-plain-response", "ENVELOPE-CONTENT-TYPE", "200 JSON bodies are labelled text/plain.", cf.TextPlainResponse),
    _fault("id-as-string", "ENTITY-SCHEMA", "entity.id is sent as a string.", cf.IdAsString),
    _fault("success-as-string", "ENTITY-SCHEMA", "success is sent as the string \"true\" or \"false\".", cf.SuccessAsString),
    _fault("bad-datetime", "ENTITY-SCHEMA", "autoUpdateTime is written like 16/09/2024 11:59 instead of RFC 3339.", cf.BadDatetime),
    _fault("purchases-as-string", "ENTITY-SCHEMA", "lifetimePurchases is sent as a string.", cf.PurchasesAsString),
    _fault(
        "skeleton-entity", "ENTITY-COMPLETE",
        "Successful entities carry only the ID and profiles with only userId and identifiers.",
        cf.SkeletonEntity,
    ),
    _fault("userid-mismatch", "ENTITY-USERID", "Every profile's userId is the entity ID plus one.", cf.UserIdMismatch),
    _fault("success-with-errors", "RESULT-SUCCESS-FLAG", "Results of existing customers carry an error item but keep success true.", cf.SuccessWithErrors),
    _fault("unknown-as-success", "RESULT-UNKNOWN-ID", "Unknown IDs get success true, no errors and an entity with empty profiles.", cf.UnknownAsSuccess),
    _fault("unknown-dropped", "RESULT-COUNT", "Results of unknown IDs are left out of data.", cf.UnknownDropped),
    _fault(
        "unknown-leaks-other", "RESULT-FAILED-REDUCED",
        "Unknown IDs keep success false and error 8015, but their entity carries the profiles of customer 400000001.",
        cf.UnknownLeaksOther,
    ),
    _fault(
        "deleted-leaks-pii", "RESULT-FAILED-REDUCED",
        "Deleted customers keep success false and error 8109, but their entity carries a full profile with names, identifiers and commChannels.",
        cf.DeletedLeaksPii,
    ),
    _fault("duplicates-collapsed", "RESULT-DUPLICATES", "A repeated ID gets only one result.", cf.DuplicatesCollapsed),
    _fault("wrong-customer", "RESULT-RIGHT-CUSTOMER", "Each found customer keeps its ID and userId but carries the profiles of the next customer.", cf.WrongCustomer),
    _fault(
        "same-customer-for-all", "RESULT-RIGHT-CUSTOMER",
        "Every found customer keeps its ID and userId but carries the profiles of the first customer found in the batch.",
        cf.SameCustomerForAll,
    ),
    _fault("large-batch-truncated", "RESULT-COUNT", "Batches of more than 10 IDs lose their last result.", cf.LargeBatchTruncated),
    _fault("unknown-500", "RESULT-ISOLATION", "Any unknown ID in the batch turns the whole response into a 500.", cf.Unknown500),
    _fault("unknown-spoils-known", "RESULT-ISOLATION", "When the batch has an unknown ID, found customers lose loyaltyInfo and get success false with a partial failure error.", cf.UnknownSpoilsKnown),
    _fault("order-reversed", "RESULT-ORDER", "Results come in reverse request order.", cf.OrderReversed),
    _fault("swapped-entities", "RESULT-IDENTITY", "In batches of two or more IDs the entities of the first two results are swapped.", cf.SwappedEntities),
    _fault("malformed-500", "REQUEST-MALFORMED", "A body that is not JSON gets a 500 instead of a 400.", cf.Malformed500),
    _fault("object-body-200", "REQUEST-MALFORMED", "A JSON object body gets 200 with an empty data list.", cf.ObjectBody200),
    _fault(
        "decimal-id-accepted", "REQUEST-MALFORMED", "An ID written with a decimal point, such as 400000001.0, is accepted.",
        cf.DecimalIdAccepted,
    ),
    _fault("empty-list-200", "REQUEST-EMPTY", "An empty array gets 200 with an empty data list.", cf.EmptyList200),
    _fault("over-batch-accepted", "REQUEST-BATCH-LIMIT", "Batches of more than the maximum number of IDs get 200.", cf.OverBatchAccepted),
    _fault("wrong-content-type-accepted", "REQUEST-CONTENT-TYPE", "A body labelled text/plain is accepted.", cf.WrongContentTypeAccepted),
    _fault("html-error-page", "ERROR-BODY", "400 responses are an HTML page labelled text/html.", cf.HtmlErrorPage),
    _fault("unknown-path-no-json", "PATH-UNKNOWN", "Unknown paths get a 404 with a text/plain body.", cf.UnknownPathNoJson),
    _fault("format-xml-accepted", "QUERY-FORMAT", "format=xml gets 200 with JSON.", cf.FormatXmlAccepted),
    _fault("format-repeated-rejected", "QUERY-FORMAT-REPEATED", "format=json&format=json, as in the vendor's example, gets a 400.", cf.FormatRepeatedRejected),
    _fault("identifier-name-accepted", "QUERY-IDENTIFIER-NAME", "An unsupported identifierName is accepted.", cf.IdentifierNameAccepted),
    _fault("unknown-source-accepted", "QUERY-SOURCE", "An unsupported source is accepted.", cf.UnknownSourceAccepted),
    _fault("source-wrong-code", "QUERY-SOURCE", "An unsupported source gets 400 with error code 400 instead of 8003.", cf.SourceWrongCode),
    _fault("auth-none-accepted", "AUTH-MISSING", "Requests without credentials get 200.", cf.AuthNoneAccepted),
    _fault("auth-wrong-password-accepted", "AUTH-WRONG", "Any password is accepted for a known username.", cf.AuthWrongPasswordAccepted),
    _fault(
        "plain-password-accepted", "AUTH-WRONG",
        "Basic credentials that carry the plain password in place of its MD5 digest are accepted.",
        cf.PlainPasswordAccepted,
    ),
    _fault("email-not-email", "DATA-EMAIL", "Email identifiers of customers with odd IDs are the text not-an-email.", cf.EmailNotEmail),
    _fault("negative-purchases", "DATA-PURCHASES", "Customers with odd IDs have negative lifetimePurchases.", cf.NegativePurchases),
    _fault("intermittent-500", "STABILITY", "Every Nth call (SandboxSettings.intermittent_every) gets 500.", cf.Intermittent500),
    _fault("slow-large-batches", "LATENCY", "Batches of at least slow_batch_threshold IDs wait slow_seconds before the response.", cf.SlowLargeBatches),
    _fault("not-idempotent", "META-IDEMPOTENT", "autoUpdateTime moves forward by one second on every call.", cf.NotIdempotent),
    _fault("batch-dependent", "META-BATCH-INDEPENDENCE", "In batches of two or more IDs, segments of each found customer gain a batchSize key.", cf.BatchDependent),
    _variant("variant-extra-fields", "Undocumented keys appear at the envelope, result, entity, profile and identifier levels.", variants.ExtraFields),
    _variant("variant-key-order", "Every object of the 200 body has its keys in reverse order.", variants.KeyOrder),
    _variant("variant-gzip", "Bodies are gzip-compressed with Content-Encoding: gzip when the request accepts gzip.", variants.Gzip),
    _variant("variant-charset", "JSON bodies are labelled application/json; charset=utf-8.", variants.Charset),
    _variant("variant-success-warnings", "Successful results carry a warning item with code 8001.", variants.SuccessWarnings),
    _variant("variant-empty-optionals", "Optional fields are left out for customers who have no data for them.", variants.EmptyOptionals),
    _variant("variant-integer-purchases", "Whole lifetimePurchases amounts are JSON integers.", variants.IntegerPurchases),
    _variant("variant-legacy-not-found", "Unknown IDs get the older error code 816, Customer not found for organization.", variants.LegacyNotFound),
    _network("flaky-throttle", "Every 4th request gets 429 with Retry-After: 1.", network.FlakyThrottle),
    _network("flaky-503", "Every 3rd request gets 503.", network.Flaky503),
    _network("flaky-reset", "Every 4th request has its connection closed without a response.", network.FlakyReset),
    _network("flaky-slow", "Every response is delayed by 0.3 seconds.", network.FlakySlow),
]

FAULTS: dict[str, Fault] = {entry.name: entry for entry in _CATALOGUE}


def fault_names(kind: str | None = None) -> list[str]:
    """Return the catalogue's names in catalogue order, only those of `kind` if given."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}. Expected one of: {', '.join(KINDS)}.")
    return [entry.name for entry in _CATALOGUE if kind is None or entry.kind == kind]


def build_hooks(name: str | None, settings: SandboxSettings) -> Hooks:
    """Create the hooks for a catalogue entry, or those of the correct server for None."""
    if name is None:
        return Hooks(settings)
    if name not in FAULTS:
        raise ValueError(f"Unknown fault {name!r}. Valid names: {', '.join(fault_names())}.")
    return FAULTS[name].hooks(settings)
