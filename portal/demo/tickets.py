"""A demo request with a short conversation for `flask seed-demo` (idempotent)."""

from flask import current_app
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.tickets import services
from portal.tickets.models import Ticket


def seed():
    # Services build links with url_for, which needs a request context outside a web request.
    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        _seed()


def _seed():
    if db.session.scalar(select(Ticket.id).limit(1)) is not None:
        return
    users = {u.login: u for u in db.session.scalars(select(User))}
    buyer, gas, manager = users.get("buyer"), users.get("gas"), users.get("manager")
    if not (buyer and gas and manager):
        return
    pharmacy = buyer.active_memberships[0].organisation
    ticket = services.create_ticket(
        pharmacy,
        buyer,
        "document_copy",
        title="Копия УПД за прошлый месяц",
        body="Просим прислать копию УПД, оригинал утерян.",
        fields={"document_name": "УПД-0002", "period": "прошлый месяц"},
    )
    services.add_comment(
        ticket, manager, body="Копию подготовим до конца недели.", new_status="in_progress"
    )
    services.create_ticket(
        gas.active_memberships[0].organisation,
        gas,
        "meter_verification",
        title="Поверка счётчика на котельной",
        body="Срок поверки истекает в следующем месяце.",
        fields={"meter_serial": "СГ-16МТ №004512"},
    )
