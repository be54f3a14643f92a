"""Generated requests: valid and invalid bodies and queries drawn from the request schemas.

Hypothesis draws the requests (see ``contract_support.generation``) and shrinks a failure to
a minimal one. The number of examples comes from the environment's Hypothesis profile
(``contract_support.budget``). Random customer IDs may exist or not, so the checks on a
valid batch assert only what holds for any ID, plus the not-found rule for the
environment's unknown IDs.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_support import generation

BATCH_RULES = (
    "ENVELOPE-SCHEMA", "ENTITY-SCHEMA", "RESULT-COUNT", "RESULT-IDENTITY", "RESULT-ORDER",
    "RESULT-SUCCESS-FLAG", "RESULT-UNKNOWN-ID", "ENTITY-USERID",
)


def _accepting_rule(query):
    """Return the rule that a rejection of this valid query breaks, the most specific first."""
    sent = dict(query.sent_pairs())
    names = [name for name, _ in query.sent_pairs()]
    if names.count("format") > 1:
        return "QUERY-FORMAT-REPEATED"
    if any(name not in generation.QUERY_PARAMETERS for name in names):
        return "QUERY-UNKNOWN-PARAMETER"
    if "identifierName" in sent:
        return "QUERY-IDENTIFIER-NAME"
    if "source" in sent:
        return "QUERY-SOURCE"
    return "QUERY-FORMAT"


@pytest.fixture(scope="session")
def reference_ids(known_ids, unknown_ids):
    return (*known_ids, *unknown_ids)


@pytest.mark.rule(*BATCH_RULES)
@given(data=st.data())
def test_generated_batch_follows_contract(api, contract, environment, reference_ids, unknown_ids, data):
    ids = data.draw(generation.customer_id_batches(environment.limits.max_batch, reference_ids), label="ids")

    call = api.get_customers(ids)

    contract.batch(call, ids, [customer_id for customer_id in ids if customer_id in unknown_ids])


@pytest.mark.rule("REQUEST-MALFORMED", "REQUEST-EMPTY", "REQUEST-BATCH-LIMIT", "REQUEST-CONTENT-TYPE", "ERROR-BODY")
@pytest.mark.parametrize("defect", generation.BODY_DEFECTS)
@given(data=st.data())
def test_generated_invalid_body_rejected(api, contract, environment, reference_ids, defect, data):
    strategy = generation.invalid_bodies(defect, environment.limits.max_batch, reference_ids)
    case = data.draw(strategy, label="invalid body")

    call = api.get_customers(body=case.body, headers={"Content-Type": case.content_type})

    contract.error_response(call, environment.expectations[case.status_expectation], case.rule)


@pytest.mark.rule("QUERY-FORMAT", "QUERY-FORMAT-REPEATED", "QUERY-IDENTIFIER-NAME", "QUERY-SOURCE",
                  "QUERY-UNKNOWN-PARAMETER")
@given(data=st.data())
def test_generated_valid_query_accepted(api, contract, environment, known_ids, data):
    strategy = generation.valid_queries(environment.supported_sources, environment.expectations["source_required"])
    query = data.draw(strategy, label="query")
    ids = data.draw(st.lists(st.sampled_from(known_ids), min_size=1, max_size=3), label="ids")

    call = api.get_customers(ids, params=query.pairs)

    contract.status(call, [200], _accepting_rule(query))
    contract.batch(call, ids)


@pytest.mark.rule("QUERY-FORMAT", "QUERY-IDENTIFIER-NAME", "QUERY-IDENTIFIER-PAIR", "QUERY-SOURCE", "ERROR-BODY")
@pytest.mark.parametrize("defect", generation.QUERY_DEFECTS)
@given(data=st.data())
def test_generated_invalid_query_rejected(api, contract, environment, known_ids, defect, data):
    strategy = generation.invalid_queries(
        defect, environment.supported_sources, environment.expectations["source_required"]
    )
    query = data.draw(strategy, label="invalid query")

    call = api.get_customers(known_ids[:1], params=query.pairs)

    statuses = environment.expectations[query.status_expectation] if query.status_expectation else [400]
    contract.error_response(call, statuses, query.rule)
