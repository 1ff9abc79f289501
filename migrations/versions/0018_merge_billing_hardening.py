"""merge account hardening, the billing room and payment allocation

Revision ID: 0018_merge_billing_hardening
Revises: 0014_account_hardening, 0016_billing, 0017_payment_allocation
Create Date: 2026-12-02 17:10:00

"""

# revision identifiers, used by Alembic.
revision = "0018_merge_billing_hardening"
down_revision = ("0014_account_hardening", "0016_billing", "0017_payment_allocation")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
