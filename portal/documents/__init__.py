"""Documents: scans uploaded by customers (reviewed by managers) and documents from the supplier."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

# isort: off
# organisations first: portal.navigation imports it, and it imports portal.navigation back.
from portal.organisations.models import Power
from portal.navigation import MenuItem, Panel, register_menu, register_panel

# isort: on

bp = Blueprint("documents", __name__)


def _new_documents_panel(membership):
    from portal.documents.services import recent_documents

    return {"documents": recent_documents(membership)}


def _uploads_to_review_panel(_membership):
    from portal.documents.services import pending_upload_count

    return {"count": pending_upload_count()}


register_menu(MenuItem(_l("Documents"), "documents.list_documents", order=60, group="documents"))
register_menu(
    MenuItem(
        _l("My scans"),
        "documents.list_uploads",
        power=Power.UPLOAD_DOCUMENTS,
        order=61,
        group="documents",
    )
)
register_menu(
    MenuItem(
        _l("Scans to review"), "documents.review_queue", staff=True, order=40, group="documents"
    )
)
register_menu(
    MenuItem(
        _l("Supplier documents"),
        "documents.staff_documents",
        staff=True,
        order=41,
        group="documents",
    )
)
register_panel(
    Panel(template="documents/panel_new_documents.html", context=_new_documents_panel, order=40)
)
register_panel(
    Panel(
        template="documents/panel_uploads_to_review.html",
        context=_uploads_to_review_panel,
        staff=True,
        order=40,
    )
)
