import pytest


@pytest.fixture
def in_request(app):
    """Refusals carry translated messages, which need a request (the locale comes from it)."""
    with app.test_request_context():
        yield
