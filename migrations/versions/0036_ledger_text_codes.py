"""billing: ledger texts as codes with parameters, worded in the reader's language

A ledger entry the portal posted (a shipment, a gas month, a payment, a recalculation, a VAT
or shipment correction) stored its text as a Russian sentence, so the English account page
showed it in Russian. It now also stores a code and its parameters (`text_code`,
`text_params`, see portal/billing/texts.py) worded when shown. Stored sentences are read back
into their code with their figures; a text this revision cannot read (a staff adjustment's
reason as typed, demo rows) keeps no code and is shown as stored: the `description` column
stays, with the Russian text, for those rows, the reconciliation act and the exports.

Revision ID: 0036_ledger_text_codes
Revises: 0035_job_queue
Create Date: 2026-12-04 19:40:00

"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0036_ledger_text_codes"
down_revision = "0035_job_queue"
branch_labels = None
depends_on = None

_DATE = r"(\d{2}\.\d{2}\.\d{4})"
# The sentences as the portal stored them (always in Russian), with their parameters in order.
_STORED = [
    (
        "gas_charge",
        re.compile(r"Поставка газа за (\d{2}\.\d{4}), договор (.+): (.+) м³"),
        ("month", "number", "volume"),
    ),
    (
        "gas_recalculation",
        re.compile(r"Перерасчёт за (\d{2}\.\d{4}), договор (.+), после исправления показаний"),
        ("month", "number"),
    ),
    ("payment", re.compile(r"Оплата, платёжное поручение № (.+)"), ("number",)),
    (
        "shipment",
        re.compile(rf"Отгрузка \(УПД\) № (\S+) от {_DATE}, заказ № (.+)"),
        ("document", "date", "order"),
    ),
    (
        "shipment_correction",
        re.compile(
            rf"Корректировка отгрузки: УКД № (\S+) от {_DATE} к УПД № (\S+) от {_DATE}, "
            r"заказ № (.+)"
        ),
        ("document", "date", "original", "original_date", "order"),
    ),
    (
        "gas_vat",
        re.compile(
            rf"Корректировка НДС за газ за (\d{{2}}\.\d{{4}}), договор (.+): на {_DATE} действует "
            r"ставка НДС (\S+) %, было начислено по ставке (\S+) %\. (Доначислено|Уменьшено) "
            r"НДС (\S+) руб\."
        ),
        ("month", "number", "date", "new_rate", "old_rate", "direction", "amount"),
    ),
    (
        "shipment_vat",
        re.compile(
            rf"Корректировка НДС по УПД № (\S+) от {_DATE}: на дату отгрузки действует ставка "
            r"НДС (.+?), было начислено по ставке (.+?)\. (Доначислено|Уменьшено) НДС (\S+) руб\."
        ),
        ("number", "date", "new_rates", "old_rates", "direction", "amount"),
    ),
]


def parse_stored_text(text):
    """(code, params) for a ledger text stored before this revision, or (None, None)."""
    for code, pattern, names in _STORED:
        match = pattern.fullmatch((text or "").strip())
        if match is None:
            continue
        params = dict(zip(names, match.groups(), strict=True))
        direction = params.pop("direction", None)
        if direction is not None:
            code += "_added" if direction == "Доначислено" else "_reduced"
        return code, params
    return None, None


entries = sa.table(
    "ledger_entries",
    sa.column("id", sa.Integer),
    sa.column("description", sa.String),
    sa.column("text_code", sa.String),
    sa.column("text_params", sa.JSON),
)


def upgrade():
    # Plain ALTER TABLE on both databases (as 0033): no batch copy of the table.
    op.add_column("ledger_entries", sa.Column("text_code", sa.String(length=40)))
    op.add_column("ledger_entries", sa.Column("text_params", sa.JSON()))
    bind = op.get_bind()
    stored = bind.execute(sa.select(entries.c.id, entries.c.description)).all()
    for entry_id, text in stored:
        code, params = parse_stored_text(text)
        if code is None:
            continue  # shown as stored
        bind.execute(
            entries.update()
            .where(entries.c.id == entry_id)
            .values(text_code=code, text_params=params)
        )


def downgrade():
    # The Russian text never left the description column.
    op.drop_column("ledger_entries", "text_params")
    op.drop_column("ledger_entries", "text_code")
