"""queue: imports and documents as jobs, each with its status row

A catalogue import, a bank statement import or a УПД issued on a page is a queue job any worker
takes; its row says pending, done with the report, or failed with the message, and names the
uploaded file kept in the file store until the job has finished.

Revision ID: 0037_job_kinds
Revises: 0036_ledger_text_codes
Create Date: 2026-12-04 19:45:00

"""

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0037_job_kinds"
down_revision = "0036_ledger_text_codes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "background_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("file_key", sa.String(length=300), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_background_jobs_requested_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_background_jobs_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_jobs")),
    )
    op.create_index(op.f("ix_background_jobs_kind"), "background_jobs", ["kind"])
    op.create_index(op.f("ix_background_jobs_status"), "background_jobs", ["status"])
    op.create_index(
        op.f("ix_background_jobs_requested_by_id"), "background_jobs", ["requested_by_id"]
    )
    op.create_index(
        op.f("ix_background_jobs_organisation_id"), "background_jobs", ["organisation_id"]
    )


def downgrade():
    for column in ("organisation_id", "requested_by_id", "status", "kind"):
        op.drop_index(op.f(f"ix_background_jobs_{column}"), table_name="background_jobs")
    op.drop_table("background_jobs")
