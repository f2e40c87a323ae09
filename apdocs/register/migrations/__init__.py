"""Alembic migrations for the register, run from code (apdocs.register.db.migrate), never by hand."""
