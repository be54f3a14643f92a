"""Latency statistics of recorded calls: p50, p95 and max in milliseconds.

Percentiles use the nearest-rank method: the p-th percentile of n sorted samples is the
sample at rank ceil(p / 100 * n). Every reported value is then a latency that a call really
had, and one sample gives that sample for every percentile.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable


@dataclasses.dataclass(frozen=True)
class LatencyStats:
    """Latency summary of a set of calls, in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, float | int]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        return f"{self.count} responses, p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms, max {self.max_ms:.1f} ms"


def percentile(sorted_samples: list[float], percent: float) -> float:
    """Return the nearest-rank percentile of already sorted samples."""
    if not sorted_samples:
        raise ValueError("percentile of no samples")
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], not {percent!r}")
    rank = math.ceil(percent / 100 * len(sorted_samples))
    return sorted_samples[rank - 1]


def latency_stats(elapsed_seconds: Iterable[float]) -> LatencyStats | None:
    """Summarise call durations given in seconds; returns None when there are none."""
    samples = sorted(seconds * 1000 for seconds in elapsed_seconds)
    if not samples:
        return None
    return LatencyStats(
        count=len(samples),
        p50_ms=round(percentile(samples, 50), 2),
        p95_ms=round(percentile(samples, 95), 2),
        max_ms=round(samples[-1], 2),
    )
