"""metering: reading warnings as codes with figures; early readings marked

A reading's warning was stored as a sentence in the language of whoever submitted it, so the
English page showed it in Russian. It is now a code with its figures (`warning_code`,
`warning_params`) worded when shown. Stored sentences of the month-against-month deviation
warning (Russian or English) are read back into the code `deviation_month` with their figures;
any other text is kept word for word under the code `note`. `is_early` marks readings sent
before the month's submission window opened (they are accepted and shown to staff).

Revision ID: 0033_reading_warning_codes
Revises: 0031_commercial_terms
Create Date: 2026-12-03 18:10:00

"""

import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op

revision = "0033_reading_warning_codes"
down_revision = "0031_commercial_terms"
branch_labels = None
depends_on = None

_NUMBER = r"([0-9][0-9\s\u00a0\u202f.,]*)"
_STORED = [
    re.compile(
        rf"Расход {_NUMBER}\s*м³ отличается от того же месяца прошлого года "
        rf"\({_NUMBER}\s*м³\) на ([0-9]+)\s*%"
    ),
    re.compile(
        rf"Consumption {_NUMBER}\s*m³ differs from the same month last year "
        rf"\({_NUMBER}\s*m³\) by ([0-9]+)\s*%"
    ),
]


def _number(text):
    """'12 345,6' (how format_volume printed it) -> '12345.6'."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).rstrip(".,").replace(",", ".")
    try:
        return str(Decimal(cleaned))
    except InvalidOperation:
        return None


def parse_stored_warning(text):
    """(code, params) for a warning sentence stored before this revision."""
    for pattern in _STORED:
        match = pattern.search(text)
        if match:
            volume, reference = _number(match.group(1)), _number(match.group(2))
            if volume is not None and reference is not None:
                params = {"volume": volume, "reference": reference, "percent": int(match[3])}
                return "deviation_month", params
    return "note", {"text": text}


readings = sa.table(
    "gas_readings",
    sa.column("id", sa.Integer),
    sa.column("warning", sa.String),
    sa.column("warning_code", sa.String),
    sa.column("warning_params", sa.JSON),
)


def upgrade():
    # Plain ALTER TABLE on both databases (SQLite ≥ 3.35 drops columns itself): a batch
    # copy of the table would reflect the users table's expression index, which SQLite cannot.
    op.add_column(
        "gas_readings",
        sa.Column("is_early", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("gas_readings", sa.Column("warning_code", sa.String(length=32)))
    op.add_column("gas_readings", sa.Column("warning_params", sa.JSON()))
    bind = op.get_bind()
    stored = bind.execute(
        sa.select(readings.c.id, readings.c.warning).where(readings.c.warning.is_not(None))
    ).all()
    for reading_id, text in stored:
        if not text.strip():
            continue
        code, params = parse_stored_warning(text)
        bind.execute(
            readings.update()
            .where(readings.c.id == reading_id)
            .values(warning_code=code, warning_params=params)
        )
    op.drop_column("gas_readings", "warning")


def downgrade():
    op.add_column("gas_readings", sa.Column("warning", sa.String(length=300)))
    bind = op.get_bind()
    stored = bind.execute(
        sa.select(readings.c.id, readings.c.warning_code, readings.c.warning_params).where(
            readings.c.warning_code.is_not(None)
        )
    ).all()
    for reading_id, code, params in stored:
        params = params or {}
        text = params.get("text") or f"{code}: {params}"
        bind.execute(
            readings.update().where(readings.c.id == reading_id).values(warning=text[:300])
        )
    for column in ("warning_params", "warning_code", "is_early"):
        op.drop_column("gas_readings", column)
