import pytest

from portal.documents import subjects


@pytest.fixture
def orders_registered(monkeypatch):
    """Stand-in for the orders domain: order N belongs to organisation N // 1000."""

    def load(organisation_id, object_id):
        return f"Заказ №{object_id}" if object_id // 1000 == organisation_id else None

    monkeypatch.setitem(subjects._LOADERS, "order", ("Заказ", load))
    return lambda organisation, n=1: organisation.id * 1000 + n
