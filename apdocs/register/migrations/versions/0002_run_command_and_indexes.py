"""Which command made each run, and indexes for the lookups every run and `findings list` make.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        # Runs made before this revision were all `reconcile` or `ingest`; which one is not known.
        batch.add_column(sa.Column("command", sa.String(20), nullable=False, server_default="unknown"))
    op.create_index("ix_findings_status", "findings", ["status"])
    op.create_index("ix_decisions_key", "decisions", ["key", "id"])
    op.create_index("ix_finding_events_key", "finding_events", ["key"])


def downgrade() -> None:
    op.drop_index("ix_finding_events_key", "finding_events")
    op.drop_index("ix_decisions_key", "decisions")
    op.drop_index("ix_findings_status", "findings")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("command")
