"""The first register schema: schools, providers, placements, returns, runs, findings, decisions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("urn", sa.String(40)),
        sa.Column("email", sa.String(300)),
        sa.Column("last_seen", sa.Date, nullable=False),
    )
    op.create_table(
        "providers",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("urn", sa.String(40)),
        sa.Column("type", sa.String(60)),
        sa.Column("last_seen", sa.Date, nullable=False),
    )
    op.create_table(
        "placements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("school_key", sa.String(200), nullable=False),
        sa.Column("pupil_reference", sa.String(100), nullable=False),
        sa.Column("provider_key", sa.String(200), nullable=False),
        sa.Column("commissioned_by", sa.String(20)),
        sa.Column("hours_per_week", sa.Float),
        sa.Column("start", sa.Date),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("last_seen", sa.Date, nullable=False),
        sa.UniqueConstraint("pupil_reference", "provider_key", name="uq_placement"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("returns_read", sa.Integer, nullable=False),
        sa.Column("returns_failed", sa.Integer, nullable=False),
        sa.Column("findings", sa.Integer, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),  # JSON: severity -> count
    )
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("form", sa.String(20), nullable=False),
        sa.Column("school", sa.String(300)),
        sa.Column("pupil_reference", sa.String(100)),
        sa.Column("provider", sa.String(300)),
        sa.Column("completed", sa.Date),
        sa.Column("received", sa.Date, nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("record", sa.Text, nullable=False),  # JSON of ParsedReturn.to_dict()
        sa.Column("run_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("key", sa.String(20), primary_key=True),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("school", sa.String(300)),
        sa.Column("pupil_reference", sa.String(100)),
        sa.Column("provider", sa.String(300)),
        sa.Column("form", sa.String(20)),
        sa.Column("item", sa.String(200)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("first_raised", sa.Date, nullable=False),
        sa.Column("last_raised", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_changed", sa.Date, nullable=False),
    )
    op.create_table(
        "finding_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(20), nullable=False),
        sa.Column("event", sa.String(10), nullable=False),  # new, resolved, reopened, accepted
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("run_id", sa.Integer),  # None: a CLI decision between runs
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(20), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),  # accept, chase, reopen, "" (cleared)
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("until", sa.Date),
        sa.Column("source", sa.String(10), nullable=False),  # tracker, cli
    )


def downgrade() -> None:
    for table in ("decisions", "finding_events", "findings", "returns", "runs", "placements", "providers", "schools"):
        op.drop_table(table)
