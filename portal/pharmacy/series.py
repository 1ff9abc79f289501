"""Series per shipped order line: recorded by staff before the order ships, checked when it
ships, shown to the buyer (order page, XLSX) and printed in the УПД's columns 12–13."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from portal import audit, clock
from portal.catalog.models import ItemCertificate
from portal.errors import UserError
from portal.extensions import db
from portal.orders.models import OPEN_STATUSES, Order, OrderLine
from portal.pharmacy.models import LineSeries, SeriesRecall, normal_series
from portal.validators import NumberError, parse_whole

MAX_ROWS_PER_LINE = 20


def shipped_quantity(line: OrderLine) -> int:
    return line.quantity if line.shipped_quantity is None else line.shipped_quantity


def parse_day(raw: str, field: str) -> date:
    text = (raw or "").strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise UserError(_l("Enter the expiry date as DD.MM.YYYY."), field)


def recalled(item_id: int, series: str) -> SeriesRecall | None:
    return db.session.scalar(
        select(SeriesRecall).where(
            SeriesRecall.item_id == item_id, SeriesRecall.series == normal_series(series)
        )
    )


def series_by_line(line_ids) -> dict[int, list[LineSeries]]:
    """{order line id: its series, earliest expiry first}; one query."""
    found: dict[int, list[LineSeries]] = {}
    line_ids = list(line_ids)
    if not line_ids:
        return found
    rows = db.session.scalars(
        select(LineSeries)
        .where(LineSeries.order_line_id.in_(line_ids))
        .order_by(LineSeries.order_line_id, LineSeries.expires_on, LineSeries.series)
    )
    for row in rows:
        found.setdefault(row.order_line_id, []).append(row)
    _mark_recalls([row for line_rows in found.values() for row in line_rows])
    return found


def _mark_recalls(rows: list[LineSeries]) -> None:
    """Each row's `recall`: the recall or suspension of its series, or None (one query)."""
    if not rows:
        return
    recalls = {
        (recall.item_id, recall.series): recall
        for recall in db.session.scalars(
            select(SeriesRecall).where(
                SeriesRecall.item_id.in_(sorted({row.item_id for row in rows}))
            )
        )
    }
    for row in rows:
        row.recall = recalls.get((row.item_id, row.series))


def record_line_series(order: Order, rows: dict[int, list[dict]], staff_user) -> None:
    """Replace the series of the order's lines named in `rows` ({line id: [{"series",
    "expires_on", "quantity", "declaration", "certificate_id"}]}, raw strings as typed).

    Refused, with nothing changed, when the order has shipped, a series is recalled or
    suspended, the expiry is past, or a line's series add up to more than it ships.
    """
    if order.status not in OPEN_STATUSES:
        raise UserError(_l("Series can be recorded only before the order ships."))
    today = clock.local_today()
    lines = {line.id: line for line in order.lines}
    parsed: dict[int, list[LineSeries]] = {}
    for line_id, entries in rows.items():
        line = lines.get(line_id)
        if line is None:
            continue
        found = []
        for index, entry in enumerate(entries[:MAX_ROWS_PER_LINE]):
            field = f"series-{line_id}-{index}"
            series = normal_series(entry.get("series"))
            raw_quantity = (entry.get("quantity") or "").strip()
            raw_expiry = (entry.get("expires_on") or "").strip()
            if not series and not raw_quantity and not raw_expiry:
                continue
            if not series or len(series) > 40:
                raise UserError(
                    _l("«%(name)s»: enter the series (up to 40 characters).", name=line.name),
                    field,
                )
            try:
                quantity = parse_whole(raw_quantity)
            except NumberError:
                quantity = 0
            if quantity <= 0:
                raise UserError(
                    _l(
                        "«%(name)s», series %(series)s: the quantity must be a whole number "
                        "of packs above zero.",
                        name=line.name,
                        series=series,
                    ),
                    field,
                )
            expires_on = parse_day(raw_expiry, field)
            if expires_on < today:
                raise UserError(
                    _l(
                        "«%(name)s», series %(series)s: it expired on %(date)s and cannot be "
                        "shipped.",
                        name=line.name,
                        series=series,
                        date=expires_on.strftime("%d.%m.%Y"),
                    ),
                    field,
                )
            recall = recalled(line.item_id, series)
            if recall is not None:
                raise UserError(
                    _l(
                        "«%(name)s», series %(series)s: %(state)s (letter %(letter)s), it "
                        "cannot be shipped.",
                        name=line.name,
                        series=series,
                        state=recall.kind_label,
                        letter=recall.letter_number,
                    ),
                    field,
                )
            if any(row.series == series for row in found):
                raise UserError(
                    _l(
                        "«%(name)s»: series %(series)s is entered twice.",
                        name=line.name,
                        series=series,
                    ),
                    field,
                )
            certificate_id = _certificate(line, entry.get("certificate_id"), field)
            declaration = " ".join((entry.get("declaration") or "").split())[:120] or None
            found.append(
                LineSeries(
                    order_line_id=line.id,
                    item_id=line.item_id,
                    series=series,
                    quantity=quantity,
                    expires_on=expires_on,
                    declaration=declaration,
                    certificate_id=certificate_id,
                    recorded_by_id=getattr(staff_user, "id", None),
                )
            )
        _refuse_over_shipped(line, found, field=f"series-{line_id}-0")
        parsed[line_id] = found
    if not parsed:
        return
    db.session.execute(
        delete(LineSeries)
        .where(LineSeries.order_line_id.in_(list(parsed)))
        .execution_options(synchronize_session=False)
    )
    for found in parsed.values():
        db.session.add_all(found)
    audit.record(
        "pharmacy.series_recorded",
        target=order,
        organisation=order.organisation_id,
        number=order.number,
        series={
            lines[line_id].sku: [
                [row.series, row.quantity, row.expires_on.isoformat()] for row in found
            ]
            for line_id, found in parsed.items()
        },
    )
    db.session.flush()


def _certificate(line: OrderLine, raw, field) -> int | None:
    if raw in (None, ""):
        return None
    try:
        certificate_id = int(raw)
    except (TypeError, ValueError):
        certificate_id = 0
    certificate = db.session.get(ItemCertificate, certificate_id)
    if certificate is None or certificate.item_id != line.item_id:
        raise UserError(
            _l("«%(name)s»: choose one of the item's certificates.", name=line.name), field
        )
    return certificate.id


def _refuse_over_shipped(line, rows, field=None) -> None:
    total = sum(row.quantity for row in rows)
    if total > shipped_quantity(line):
        raise UserError(
            _l(
                "«%(name)s»: the series add up to %(total)s packs, more than the "
                "%(shipped)s shipped.",
                name=line.name,
                total=total,
                shipped=shipped_quantity(line),
            ),
            field,
        )


def check_before_shipping(order: Order) -> None:
    """Called as the order ships: series over the shipped quantity (it may have been lowered
    after the series were recorded) or a series recalled meanwhile refuse the shipment."""
    by_line = series_by_line(line.id for line in order.lines)
    for line in order.lines:
        rows = by_line.get(line.id, [])
        _refuse_over_shipped(line, rows)
        for row in rows:
            recall = recalled(line.item_id, row.series)
            if recall is not None:
                raise UserError(
                    _l(
                        "«%(name)s», series %(series)s: %(state)s (letter %(letter)s), it "
                        "cannot be shipped.",
                        name=line.name,
                        series=row.series,
                        state=recall.kind_label,
                        letter=recall.letter_number,
                    )
                )


def upd_line_details(order_line_ids) -> dict[int, dict]:
    """What the УПД prints in columns 12–13 for each line: its series (several joined) and the
    earliest of their expiry dates."""
    details = {}
    for line_id, rows in series_by_line(order_line_ids).items():
        details[line_id] = {
            "series": ", ".join(row.series for row in rows),
            "expires_on": min(row.expires_on for row in rows).strftime("%d.%m.%Y"),
        }
    return details
