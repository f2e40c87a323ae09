"""A throwaway PostgreSQL server for the register tests: initdb into a temp dir, pg_ctl start on loopback.

PostgreSQL refuses to run as root, so as root the server runs as the Debian ``postgres`` user
(via runuser) with a data directory it owns; otherwise it runs as whoever runs the tests.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/VERSION/bin (newest)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="apdocs-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "apdocs", "-E", "UTF8", "--locale=C", "--no-sync")
        for attempt in range(3):  # the free port found may be taken by someone else before the server binds it
            options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "120", "-o", options, "start"
                )
                break
            except RuntimeError:
                if attempt == 2:
                    raise RuntimeError((self.root / "server.log").read_text(errors="replace")) from None
                self.port = _free_port()
        self.url = f"postgresql+psycopg://apdocs@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run([*self.as_user, str(self.bindir / tool), *args], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _admin(base: str) -> psycopg.Connection:
    return psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://") + "/postgres", autocommit=True)


def create_database(base: str) -> str:
    name = "register_" + uuid.uuid4().hex[:12]
    with _admin(base) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # the name is ours, made above: no injection
    return f"{base}/{name}"


def drop_database(base: str, url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    with _admin(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
