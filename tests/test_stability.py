"""Stability, latency and read-only behaviour under repeated identical requests."""

import statistics

import pytest

from contract_support.failures import STATUS

REPEATS = 12
LATENCY_SAMPLES = 8


@pytest.mark.rule("STABILITY")
def test_repeated_requests_keep_succeeding(api, contract, known_ids):
    statuses = []
    for _ in range(REPEATS):
        call = api.get_customers(known_ids[:2])
        statuses.append(call.status)

        contract.require(
            call.status == 200, call, "STABILITY", f"request {len(statuses)} of {REPEATS} identical requests failed",
            failure_class=STATUS, json_path="(status)", value=call.status, expected=f"200; statuses so far {statuses}",
        )


@pytest.mark.rule("META-IDEMPOTENT")
def test_same_request_twice_same_answer(api, contract, known_ids, unknown_ids):
    ids = [*known_ids[:4], unknown_ids[0]]
    first = api.get_customers(ids)
    second = api.get_customers(ids)

    first_body = contract.envelope(first)
    second_body = contract.envelope(second)

    contract.same_answer(second, first, "META-IDEMPOTENT", "a repeated read gave a different answer", "$", second_body, first_body)


@pytest.mark.rule("LATENCY")
def test_full_batch_p95_latency_within_limit(api, contract, environment, full_batch):
    limit_ms = environment.limits.latency_p95_ms
    if limit_ms is None:
        pytest.skip("limits.latency_p95_ms is not set for this environment")
    timings_ms = []
    for _ in range(LATENCY_SAMPLES):
        call = api.get_customers(full_batch)
        contract.status(call, [200], "LATENCY")
        timings_ms.append(call.elapsed_seconds * 1000)

    p95_ms = statistics.quantiles(timings_ms, n=20, method="inclusive")[18]

    contract.require(
        p95_ms <= limit_ms, call, "LATENCY", f"p95 latency of {len(full_batch)}-ID batches is over the limit",
        json_path="(latency)", value=f"{p95_ms:.0f} ms",
        expected=f"at most {limit_ms:.0f} ms (limits.latency_p95_ms); samples {[round(t) for t in timings_ms]} ms",
    )
