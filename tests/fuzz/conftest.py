"""Property-based tests of every parser a user can reach (hypothesis).

The default profile keeps the whole set under a minute on two cores; HYPOTHESIS_PROFILE=long
runs a hundred times more examples:

    HYPOTHESIS_PROFILE=long .venv/bin/pytest -q tests/fuzz
"""

import os

import pytest
from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=_QUIET, database=None
)
settings.register_profile("long", max_examples=4000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def examples(share: float) -> settings:
    """A share of the profile's examples, for the tests that go through a whole request."""
    return settings(max_examples=max(5, int(settings().max_examples * share)))


@pytest.fixture(autouse=True)
def in_request(app):
    """Refusals carry translated messages, which need a request (the locale comes from it)."""
    with app.test_request_context():
        yield
