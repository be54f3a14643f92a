"""Self tests of the latency statistics: nearest-rank percentiles in milliseconds."""

import pytest

from contract_support.latency import LatencyStats, latency_stats, percentile


def test_percentile_nearest_rank():
    samples = [float(value) for value in range(1, 21)]

    assert percentile(samples, 50) == 10.0
    assert percentile(samples, 95) == 19.0
    assert percentile(samples, 100) == 20.0


def test_percentile_single_sample():
    assert percentile([7.0], 50) == 7.0
    assert percentile([7.0], 95) == 7.0


@pytest.mark.parametrize("percent", [0, -5, 101])
def test_percentile_rejects_invalid_percent(percent):
    with pytest.raises(ValueError, match="percent must be in"):
        percentile([1.0, 2.0], percent)


def test_percentile_rejects_no_samples():
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def test_latency_stats_converts_seconds_to_ms():
    stats = latency_stats([0.004, 0.001, 0.003, 0.002, 0.100])

    assert stats == LatencyStats(count=5, p50_ms=3.0, p95_ms=100.0, max_ms=100.0)


def test_latency_stats_of_no_calls_is_none():
    assert latency_stats([]) is None


def test_latency_describe_names_each_statistic():
    text = LatencyStats(count=3, p50_ms=1.25, p95_ms=9.5, max_ms=12.0).describe()

    assert text == "3 responses, p50 1.2 ms, p95 9.5 ms, max 12.0 ms"
