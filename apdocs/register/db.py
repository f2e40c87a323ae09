"""Opening the register: where it is, its schema (Alembic, run from code) and its write lock.

Every change to the register happens in one transaction that first takes the register's
write lock, so two officers' runs at once are serialised rather than interleaved:

* SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock at the start (a plain
  ``BEGIN`` would only take it at the first write, and two such transactions can deadlock);
  a long busy timeout makes the second run wait instead of failing.
* PostgreSQL: ``pg_advisory_xact_lock``, held until commit or rollback.

A crash (even ``kill -9``) mid-transaction leaves the register as it was: both databases
roll back an uncommitted transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine

from apdocs.errors import ApdocsError

DB_ENV = "APDOCS_DB"
DEFAULT_FILE = "apdocs.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant naming the register's advisory lock in a shared PostgreSQL database.
PG_LOCK_ID = 0x41504443  # "APDC"
BUSY_TIMEOUT_SECONDS = 600.0  # a run waits this long for another run's lock before giving up


class RegisterError(ApdocsError):
    code = "REGISTER"


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """``--db`` (a path or URL), else ``$APDOCS_DB``, else ``apdocs.db`` in the current directory."""
    value = str(db) if db else os.environ.get(DB_ENV) or DEFAULT_FILE
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).resolve())


def describe(url: str) -> str:
    """The URL without any password, for messages and logs."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}, poolclass=sa.pool.NullPool)

        @sa.event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite would otherwise begin transactions itself, too late and too weak (see above).
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("apdocs_read_only") else "BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": PG_LOCK_ID})


@contextmanager
def _typed_errors(engine: Engine) -> Iterator[None]:
    """A database failure (server gone, disk full, lock wait given up) as a typed error: exit 3, not a traceback."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        first_line = (str(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc).splitlines() or [""])[0]
        where = describe(engine.url.render_as_string(hide_password=False))
        raise RegisterError(f"the register failed: {type(exc).__name__}: {first_line}", path=where) from exc


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One locked transaction: committed when the block ends, rolled back if it raises."""
    with _typed_errors(engine), engine.connect() as conn, conn.begin():
        _lock(conn)
        yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read that does not wait for, or block, a run in progress (SQLite: shared lock only)."""
    with _typed_errors(engine), engine.connect() as conn:
        conn = conn.execution_options(apdocs_read_only=True)
        with conn.begin():
            yield conn


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the register's schema up to ``revision``, in place, under the write lock."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with write_transaction(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_engine(db: str | os.PathLike[str] | None = None) -> Engine:
    """The register's engine, its schema migrated to the newest revision."""
    url = resolve_url(db)
    try:
        file = sa.engine.make_url(url).database if url.startswith("sqlite") else None
        if file and file != ":memory:":
            Path(file).parent.mkdir(parents=True, exist_ok=True)  # like every other output: its folder is made
        engine = create_engine(url)
    except (sa.exc.SQLAlchemyError, ImportError, OSError) as exc:  # a malformed URL, an unknown driver, no folder
        raise RegisterError(f"cannot open the register: {type(exc).__name__}: {exc}".splitlines()[0], path=describe(url)) from exc
    migrate(engine)
    return engine
