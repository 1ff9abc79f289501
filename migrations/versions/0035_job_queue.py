"""queue: failed jobs, kept for the staff dashboard's retry button

A queue job that raised with no retry left is recorded (task, kind, arguments, error) so that
staff see it on /backoffice/queue/ and can send it to the queue again.

Revision ID: 0035_job_queue
Revises: 0033_reading_warning_codes
Create Date: 2026-12-04 01:30:00

"""

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0035_job_queue"
down_revision = "0033_reading_warning_codes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "failed_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("task_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("retried_at", UTCDateTime(), nullable=True),
        sa.Column("retried_by_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_jobs")),
    )
    op.create_index(op.f("ix_failed_jobs_task_id"), "failed_jobs", ["task_id"])
    op.create_index(op.f("ix_failed_jobs_kind"), "failed_jobs", ["kind"])


def downgrade():
    op.drop_index(op.f("ix_failed_jobs_kind"), table_name="failed_jobs")
    op.drop_index(op.f("ix_failed_jobs_task_id"), table_name="failed_jobs")
    op.drop_table("failed_jobs")
