"""personal data: separate versioned consents and the published policy; the offer loses its
personal-data clause

- consent_versions: each purpose's versioned text (application, portal, promotions, policy)
  with its SHA-256 digest; version 1 of each is published here with the operator's
  requisites from the SUPPLIER setting.
- consent_acceptances: who (a user, or an application before any account exists) accepted
  which version, when, from which IP address and user agent; withdrawn_at when withdrawn.
- offer_versions: since 1 September 2025 (156-ФЗ) a consent to personal data processing may
  not be part of an offer, so if the current offer has a «Персональные данные» section, a new
  offer version without it is published (customers accept it again at their next visit).

Revision ID: 0019_consents
Revises: 0018_merge_billing_hardening
Create Date: 2026-12-03 14:00:00

"""

import hashlib
import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0019_consents"
down_revision = "0018_merge_billing_hardening"
branch_labels = None
depends_on = None

_SECTION = re.compile(r"^(\d+)\.\s+\S", re.MULTILINE)


def _supplier() -> dict:
    from flask import current_app  # Flask-Migrate runs every revision inside the application

    return current_app.config["SUPPLIER"]


def offer_without_personal_data_clause(text: str) -> str | None:
    """The offer text without its «Персональные данные» section, the later sections
    renumbered; None if it has no such section."""
    starts = [m.start() for m in _SECTION.finditer(text)]
    if not starts:
        return None
    head = text[: starts[0]]
    sections = [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)], strict=True)]
    kept = [s for s in sections if "персональные данные" not in s.split("\n", 1)[0].lower()]
    if len(kept) == len(sections):
        return None
    renumbered = []
    for number, section in enumerate(kept, start=1):
        old = _SECTION.match(section).group(1)
        renumbered.append(re.sub(rf"^{old}\.", f"{number}.", section, flags=re.MULTILINE))
    return (head + "".join(renumbered)).rstrip() + "\n"


def upgrade():
    op.create_table(
        "consent_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("published_at", portal.database.UTCDateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_consent_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_versions")),
        sa.UniqueConstraint("purpose", "number", name=op.f("uq_consent_versions_purpose")),
    )
    with op.batch_alter_table("consent_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_versions_purpose_published", ["purpose", "published_at"], unique=False
        )
    op.create_table(
        "consent_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", portal.database.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("withdrawn_at", portal.database.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR application_id IS NOT NULL",
            name=op.f("ck_consent_acceptances_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_consent_acceptances_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_consent_acceptances_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["consent_versions.id"],
            name=op.f("fk_consent_acceptances_version_id_consent_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_acceptances")),
    )
    with op.batch_alter_table("consent_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_acceptances_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            "ix_consent_acceptances_user_purpose", ["user_id", "purpose"], unique=False
        )

    _publish_first_versions()
    _publish_offer_without_personal_data_clause()


def _publish_first_versions():
    from portal.privacy.initial_texts import INITIAL_TEXTS, render_initial_text

    versions = sa.table(
        "consent_versions",
        sa.column("purpose", sa.String),
        sa.column("number", sa.Integer),
        sa.column("title", sa.String),
        sa.column("text", sa.Text),
        sa.column("digest", sa.String),
        sa.column("published_at", portal.database.UTCDateTime()),
    )
    supplier = _supplier()
    now = datetime.now(UTC)
    rows = []
    for purpose in INITIAL_TEXTS:
        title, text = render_initial_text(purpose, supplier)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        rows.append(
            {
                "purpose": purpose,
                "number": 1,
                "title": title,
                "text": text,
                "digest": digest,
                "published_at": now,
            }
        )
    op.bulk_insert(versions, rows)


def _publish_offer_without_personal_data_clause():
    bind = op.get_bind()
    current = bind.execute(
        sa.text(
            "SELECT version, title, text FROM offer_versions"
            " ORDER BY published_at DESC, id DESC LIMIT 1"
        )
    ).first()
    if current is None:
        return
    text = offer_without_personal_data_clause(current.text)
    if text is None:
        return
    taken = set(bind.execute(sa.text("SELECT version FROM offer_versions")).scalars())
    version, suffix = f"{current.version}-pd", 2
    while version in taken:
        version, suffix = f"{current.version}-pd{suffix}", suffix + 1
    offers = sa.table(
        "offer_versions",
        sa.column("version", sa.String),
        sa.column("title", sa.String),
        sa.column("text", sa.Text),
        sa.column("published_at", portal.database.UTCDateTime()),
        sa.column("created_at", portal.database.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        offers,
        [
            {
                "version": version[:32],
                "title": current.title,
                "text": text,
                "published_at": now,
                "created_at": now,
            }
        ],
    )


def downgrade():
    # The offer version published above stays: acceptances of it may exist.
    with op.batch_alter_table("consent_acceptances", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_acceptances_user_purpose")
        batch_op.drop_index(batch_op.f("ix_consent_acceptances_application_id"))
    op.drop_table("consent_acceptances")
    with op.batch_alter_table("consent_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_versions_purpose_published")
    op.drop_table("consent_versions")
