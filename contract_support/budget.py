"""Request budget of a run: a client-side rate limiter and the Hypothesis profiles per environment.

The vendor's demo and testing clusters allow about 100 requests a minute per API key, and a
generated test can send hundreds. ``RequestBudget`` holds a run to the environment's
``limits.requests_per_minute`` with pyrate-limiter's SQLite bucket behind a file lock, so
every pytest-xdist worker draws from the same budget. ``hypothesis_settings`` picks how many
examples a generated test may send: many on the embedded sandbox, a small fixed number on
staging, none on production unless the run explicitly allows it.
"""

from __future__ import annotations

import logging
import os
import pathlib
import threading
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, Phase, settings
from pyrate_limiter import Duration, Limiter, Rate, SQLiteBucket

from contract_support.client import ApiCall, ApiClient
from contract_support.config import Environment

log = logging.getLogger(__name__)

# The limiter admits requests_per_minute // 10 requests in every sliding window of 6 seconds. Ten
# such windows cover any minute, so no minute gets more than requests_per_minute, and the
# run never bursts a whole minute's budget in its first second.
WINDOW_MILLISECONDS = 6 * Duration.SECOND
WINDOWS_PER_MINUTE = 10

DEFAULT_EXAMPLES = {"sandbox": 25, "staging": 5, "production": 5}
# Phases without "explain", which re-runs examples after shrinking: more requests for a hint.
NETWORK_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


def rates_for(requests_per_minute: int) -> list[Rate]:
    """Return the pyrate-limiter rates that keep any minute within ``requests_per_minute``."""
    if requests_per_minute < WINDOWS_PER_MINUTE:
        return [Rate(requests_per_minute, Duration.MINUTE)]
    return [Rate(requests_per_minute // WINDOWS_PER_MINUTE, WINDOW_MILLISECONDS)]


class RequestBudget:
    """A rate limit shared by every process that opens the same SQLite file.

    ``acquire`` is the ``before_request`` callback of ``ApiClient``: it blocks until the
    next request fits into the budget. ``charge_retries`` is a call listener that takes one
    permit for each retry that urllib3 made inside a call.
    """

    def __init__(self, requests_per_minute: int, database_path: pathlib.Path):
        self.requests_per_minute = requests_per_minute
        self.database_path = database_path
        self.clients: list[ApiClient] = []
        self.retries_charged = 0
        self._limiter: Limiter | None = None
        self._lock = threading.Lock()

    def _get_limiter(self) -> Limiter:
        # The SQLite file is opened on the first request, so a run that sends nothing creates none.
        with self._lock:
            if self._limiter is None:
                bucket = SQLiteBucket.init_from_file(
                    rates_for(self.requests_per_minute),
                    db_path=str(self.database_path),
                    table="requests",
                    use_file_lock=True,
                )
                self._limiter = Limiter(bucket)
            return self._limiter

    def acquire(self) -> None:
        """Block until one more request fits into the budget."""
        if not self._get_limiter().try_acquire("requests", blocking=True):
            raise RuntimeError(f"the request budget of {self.requests_per_minute} a minute cannot admit a request")

    def charge_retries(self, call: ApiCall) -> None:
        """Take one permit for each retry urllib3 made inside ``call``, after the fact.

        NOTE: urllib3 retries before this runs, so a burst of retries can exceed the budget
        for a moment; the next requests then wait until the budget has room again.
        """
        for _ in call.retries:
            self.acquire()
            self.retries_charged += 1

    def track(self, client: ApiClient) -> None:
        """Meter ``client``'s retries and count its requests in ``requests_sent``."""
        client.listeners.append(self.charge_retries)
        self.clients.append(client)

    @property
    def requests_sent(self) -> int:
        return sum(client.requests_sent for client in self.clients)

    def close(self) -> None:
        if self._limiter is not None:
            self._limiter.close()
            self._limiter = None


# The run's budget, in the pytest config's stash; budget_plugin creates it, the api fixture uses it.
BUDGET_KEY = pytest.StashKey[RequestBudget]()


# Hypothesis profiles.


def profile_kind(environment: Environment) -> str:
    """Return ``sandbox``, ``production`` or ``staging`` (any other shared cluster)."""
    if environment.embedded_sandbox:
        return "sandbox"
    if environment.production:
        return "production"
    return "staging"


# Caps the examples per generated test in every environment, for callers that run the suite
# many times in a row, such as the fault matrix. It can only lower the count.
MAX_EXAMPLES_CAP_VARIABLE = "CONTRACT_HYPOTHESIS_MAX_EXAMPLES"


def max_examples(environment: Environment) -> int:
    """Return the examples per generated test: ``hypothesis.max_examples``, else the kind's default.

    The count is capped by ``$CONTRACT_HYPOTHESIS_MAX_EXAMPLES`` when that is set.
    """
    configured: Mapping[str, int] = environment.hypothesis
    count = int(configured.get("max_examples", DEFAULT_EXAMPLES[profile_kind(environment)]))
    cap = os.environ.get(MAX_EXAMPLES_CAP_VARIABLE)
    if cap:
        return min(count, int(cap))
    return count


def generated_tests_skip_reason(environment: Environment, allow_production_floods: bool) -> str | None:
    """Return why generated tests must not run on ``environment``, or None when they may."""
    if environment.production and not allow_production_floods:
        return (
            f"environment {environment.name!r} is production: generated requests run only with "
            "--allow-production-floods"
        )
    if max_examples(environment) == 0 and not allow_production_floods:
        return f"hypothesis.max_examples is 0 in {environment.path}"
    return None


def hypothesis_settings(environment: Environment, ci: bool) -> settings:
    """Return the Hypothesis settings for generated tests against ``environment``.

    In CI the examples are fixed: by ``hypothesis.seed`` when the environment sets one (applied
    per test, see ``budget_plugin``), else by ``derandomize``. Outside CI examples are random
    and a failure replays first from the example database in ``.hypothesis/``.
    """
    seed = environment.hypothesis.get("seed")
    return settings(
        max_examples=max(1, max_examples(environment) or DEFAULT_EXAMPLES[profile_kind(environment)]),
        deadline=None,
        derandomize=ci and seed is None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example, HealthCheck.data_too_large],
        phases=NETWORK_PHASES,
        report_multiple_bugs=False,
        print_blob=True,
    )


def load_hypothesis_profile(environment: Environment, ci: bool) -> str:
    """Register and load the profile ``contract-<kind>`` for ``environment``, and return its name."""
    name = f"contract-{profile_kind(environment)}"
    settings.register_profile(name, hypothesis_settings(environment, ci))
    settings.load_profile(name)
    log.info("hypothesis profile %s: %s", name, settings.default)
    return name
