"""The register's tables as the code reads and writes them: the schema after the newest migration.

The migrations in ``migrations/versions`` create these; a test checks the two agree.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

schools = sa.Table(
    "schools",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("urn", sa.String(40)),
    sa.Column("email", sa.String(300)),
    sa.Column("last_seen", sa.Date, nullable=False),
)
providers = sa.Table(
    "providers",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("urn", sa.String(40)),
    sa.Column("type", sa.String(60)),
    sa.Column("last_seen", sa.Date, nullable=False),
)
placements = sa.Table(
    "placements",
    metadata,
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
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("returns_read", sa.Integer, nullable=False),
    sa.Column("returns_failed", sa.Integer, nullable=False),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("command", sa.String(20), nullable=False, server_default="unknown"),
    # The run's headline figures as JSON (coverage, counts, key findings), for the QA report's trend.
    sa.Column("summary", sa.Text, nullable=True),
)
returns = sa.Table(
    "returns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("form", sa.String(20), nullable=False),
    sa.Column("school", sa.String(300)),
    sa.Column("pupil_reference", sa.String(100)),
    sa.Column("provider", sa.String(300)),
    sa.Column("completed", sa.Date),
    sa.Column("received", sa.Date, nullable=False),
    sa.Column("path", sa.Text),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=False),
)
findings = sa.Table(
    "findings",
    metadata,
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
    sa.Column("status", sa.String(10), nullable=False, index=True),
    sa.Column("status_changed", sa.Date, nullable=False),
)
finding_events = sa.Table(
    "finding_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(20), nullable=False, index=True),
    sa.Column("event", sa.String(10), nullable=False),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("run_id", sa.Integer),
)
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(20), nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("until", sa.Date),
    sa.Column("source", sa.String(10), nullable=False),
)
