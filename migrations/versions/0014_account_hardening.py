"""accounts: e-mail unique whatever its case, failures per account, server-side two-factor
counter, membership invitations

- users.email: a unique index on lower(email) (SQLite and PostgreSQL both index expressions),
  and every address is stored trimmed and in lower case. Addresses that differ only in case
  cannot be merged automatically (two people or one?), so the upgrade stops with a list of
  them; an operator fixes those accounts and runs it again (docs/SECURITY.md).
- login_attempts (user_id, at): sign-in failures are counted per account.
- users.totp_failures, users.totp_failed_at: the wrong-code counter of staff two-factor.
- membership_invitations: adding an existing person to an organisation needs their consent.

Revision ID: 0014_account_hardening
Revises: 0013_search_index_direct
Create Date: 2026-12-02 16:00:00

"""

import sqlalchemy as sa
from alembic import op

import portal.database  # noqa: F401 - custom column types used by revisions

revision = "0014_account_hardening"
down_revision = "0013_search_index_direct"
branch_labels = None
depends_on = None


class DuplicateEmails(RuntimeError):
    pass


def _refuse_duplicate_emails(bind):
    rows = bind.execute(
        sa.text(
            "SELECT lower(trim(email)) AS address, id, login FROM users"
            " WHERE email IS NOT NULL AND lower(trim(email)) IN ("
            "  SELECT lower(trim(email)) FROM users WHERE email IS NOT NULL"
            "  GROUP BY lower(trim(email)) HAVING count(*) > 1)"
            " ORDER BY 1, 2"
        )
    ).all()
    if rows:
        listing = "; ".join(f"{r.address}: user id {r.id} (login {r.login})" for r in rows)
        raise DuplicateEmails(
            "Cannot make e-mail addresses unique regardless of case: these accounts share an"
            f" address. Change or clear the e-mail of all but one of each, then upgrade again."
            f" {listing}"
        )


def upgrade():
    bind = op.get_bind()
    _refuse_duplicate_emails(bind)
    bind.execute(
        sa.text(
            "UPDATE users SET email = CASE WHEN trim(email) = '' THEN NULL"
            " ELSE lower(trim(email)) END WHERE email IS NOT NULL"
        )
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("totp_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("totp_failed_at", portal.database.UTCDateTime(), nullable=True)
        )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("ix_login_attempts_user_id_at", "login_attempts", ["user_id", "at"])
    op.create_table(
        "membership_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_account", sa.Boolean(), nullable=False),
        sa.Column("powers", sa.String(length=255), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", portal.database.UTCDateTime(), nullable=False),
        sa.Column("accepted_at", portal.database.UTCDateTime(), nullable=True),
        sa.Column("declined_at", portal.database.UTCDateTime(), nullable=True),
        sa.Column("created_at", portal.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_membership_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_membership_invitations_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_membership_invitations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_invitations")),
        sa.UniqueConstraint("token", name=op.f("uq_membership_invitations_token")),
    )
    with op.batch_alter_table("membership_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_invitations_organisation_id"), ["organisation_id"]
        )
        batch_op.create_index(batch_op.f("ix_membership_invitations_user_id"), ["user_id"])


def downgrade():
    with op.batch_alter_table("membership_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_invitations_user_id"))
        batch_op.drop_index(batch_op.f("ix_membership_invitations_organisation_id"))
    op.drop_table("membership_invitations")
    op.drop_index("ix_login_attempts_user_id_at", table_name="login_attempts")
    op.drop_index("uq_users_email_lower", table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_failed_at")
        batch_op.drop_column("totp_failures")
