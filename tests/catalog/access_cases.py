import secrets
from datetime import date, timedelta

from portal.catalog.models import ItemCertificate
from portal.extensions import db
from tests.access import Case
from tests.catalog.builders import make_item


def _certificate(_organisation):
    """A certificate row (its file is not needed: every case is refused before sending)."""
    certificate = ItemCertificate(
        item_id=make_item().id,
        kind="certificate",
        number=f"РОСС RU.{secrets.token_hex(4)}",
        issued_by="ООО «Тест-Серт»",
        valid_until=date.today() + timedelta(days=365),
        stored_name=secrets.token_hex(20) + ".pdf",
        original_name="cert.pdf",
        sha256="0" * 64,
        size=1,
    )
    db.session.add(certificate)
    db.session.commit()
    return certificate


def _download_args(organisation):
    certificate = _certificate(organisation)
    return {"item_id": certificate.item_id, "certificate_id": certificate.id}


# Catalogue items are shared by every pharmacy, so there is no "other organisation's item".
# The customer cases run with gas customers: for them the catalogue does not exist (404),
# which is the isolation these routes must keep. Staff routes: customers get 403.
CASES = {
    "catalog.show_item": Case(lambda o: {"item_id": make_item().id}, kind="gas"),
    "catalog.toggle_favourite": Case(lambda o: {"item_id": make_item().id}, kind="gas"),
    "catalog.download_certificate": Case(_download_args, kind="gas"),
    "catalog.item_certificates": Case(lambda o: {"item_id": make_item().id}, staff=True),
    "catalog.staff_download_certificate": Case(
        lambda o: {"certificate_id": _certificate(o).id}, staff=True
    ),
    "catalog.delete_certificate": Case(
        lambda o: {"certificate_id": _certificate(o).id}, staff=True
    ),
}
