"""The content-addressed archive of everything ingest received.

Layout (all directories mode 0700, all files 0600 - children's data)::

    ARCHIVE/
      .lock                         held while a run works, so two runs never interleave
      messages/<sha256>.eml|.msg    each original message once, byte for byte, under its SHA-256
      messages/<sha256>.json        its sender, date, subject, origin, files and skipped parts
      files/<sha256>/<safe name>    each attachment once, under its SHA-256, with a sanitised name
      imap-state.json               per IMAP mailbox, its UIDVALIDITY and the highest UID fully archived

Crash safety: every file is written atomically (temp, fsync, rename; see
:func:`apdocs.fileio.atomic_write_bytes`) and a message's ``.json`` is written *last*, so
its presence means "this message is fully archived". A run killed half way leaves only
complete files (plus stray temp files, removed by the next run) and the next run redoes
the unfinished message; because names are content hashes, redoing it adds nothing twice.
``imap-state.json`` is written only after the messages it covers are archived, so a crash
leaves it behind (those messages are fetched again and de-duplicated), never ahead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apdocs.fileio import atomic_write_bytes
from apdocs.mail.errors import ArchiveError
from apdocs.mail.message import FoundFile, MailItem
from apdocs.mail.names import safe_name

FILE_MODE = 0o600
DIR_MODE = 0o700
#: Test hook: SIGKILL this process after that many archive writes (proves crash safety).
KILL_HOOK = "APDOCS_TEST_KILL_AFTER_WRITES"
IMAP_STATE = "imap-state.json"
_EXT = {"docx": ".docx", "xlsx": ".xlsx"}


@dataclass(frozen=True)
class ArchivedFile:
    """One attachment in the archive, with the message it first came in."""

    sha256: str
    path: Path
    name: str  # as the sender named it
    kind: str
    via: str
    message: dict[str, Any]  # the message's metadata (sender, date, subject, sha256 ...)


class Archive:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.messages_dir = self.root / "messages"
        self.files_dir = self.root / "files"
        self.imap_state_path = self.root / IMAP_STATE
        self._writes = 0
        self._kill_after = int(os.environ.get(KILL_HOOK, "0") or 0)

    # -- opening -----------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[Archive]:
        """Create the layout if needed, take the run lock, and tidy what a crash left."""
        for d in (self.root, self.messages_dir, self.files_dir):
            _ensure_private_dir(d)
        lock = open(self.root / ".lock", "a+b")
        os.chmod(lock.name, FILE_MODE)
        try:
            try:
                import fcntl

                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # not on POSIX: no lock, the atomic writes still hold
                pass
            except OSError:
                raise ArchiveError("another apdocs run is using this archive", path=str(self.root)) from None
            self._remove_stale_temps()
            yield self
        finally:
            lock.close()

    def _remove_stale_temps(self) -> None:
        # Only our own atomic-write temp names (".NAME.RANDOM.tmp"); never anything else.
        temps = [*self.messages_dir.glob(".*.tmp"), *self.files_dir.glob("*/.*.tmp"), *self.root.glob(f".{IMAP_STATE}.*.tmp")]
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    # -- writing -----------------------------------------------------------------

    def has_message(self, sha256: str) -> bool:
        return (self.messages_dir / f"{sha256}.json").exists()

    def store(self, item: MailItem) -> bool:
        """Archive a message and its files; False when it was already there (nothing written)."""
        sha = item.sha256
        if self.has_message(sha):
            return False
        files = []
        for found in item.found:
            path = self._store_file(found)
            files.append(
                {
                    "sha256": found.sha256,
                    "name": found.name,
                    "stored_as": path.relative_to(self.root).as_posix(),
                    "kind": found.kind,
                    "via": found.via,
                }
            )
        original = self.messages_dir / f"{sha}.{item.container}"
        if not original.exists():
            self._write(original, item.raw)
        meta = {
            "sha256": sha,
            "stored_as": original.relative_to(self.root).as_posix(),
            "container": item.container,
            "origin": item.origin,
            "sender": item.sender,
            "date": item.date,
            "date_raw": item.date_raw,
            "subject": item.subject,
            "message_id": item.message_id,
            "archived_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": files,
            "skipped": [s.to_dict() for s in item.skipped],
            "error": item.error,
        }
        # Written last: its presence marks the message as complete.
        self._write(self.messages_dir / f"{sha}.json", json.dumps(meta, indent=2, ensure_ascii=False).encode())
        return True

    def read_imap_state(self) -> Any:
        """The IMAP state file's JSON, or None when there is none; :class:`ArchiveError` when it is unreadable."""
        try:
            text = self.imap_state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ArchiveError(f"IMAP state unreadable: {exc}", path=str(self.imap_state_path)) from exc
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ArchiveError(f"IMAP state is not valid JSON: {exc}", path=str(self.imap_state_path)) from exc

    def write_imap_state(self, state: Any) -> None:
        """Replace the IMAP state file atomically (call only once the messages it covers are stored)."""
        self._write(self.imap_state_path, json.dumps(state, indent=2, ensure_ascii=False).encode())

    def _store_file(self, found: FoundFile) -> Path:
        folder = self.files_dir / found.sha256
        existing = self._file_in(folder)
        if existing is not None:
            return existing  # same bytes already archived (a duplicate reply): keep the first
        _ensure_private_dir(folder)
        name = safe_name(found.name, fallback="attachment")
        ext = _EXT.get(found.kind)
        if ext and not name.lower().endswith(ext):
            name = safe_name(name + ext)  # the bytes decide the type; the name follows
        path = folder / name
        self._write(path, found.data)
        return path

    def _write(self, path: Path, data: bytes) -> None:
        atomic_write_bytes(path, data, mode=FILE_MODE)
        self._writes += 1
        if self._kill_after and self._writes >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    # -- reading -----------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        """Metadata of every complete message, oldest archived first (stable order)."""
        out = []
        for meta_path in self.messages_dir.glob("*.json"):
            try:
                out.append(json.loads(meta_path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise ArchiveError(f"archive metadata unreadable: {exc}", path=str(meta_path)) from exc
        out.sort(key=lambda m: (m.get("archived_at") or "", m.get("sha256") or ""))
        return out

    def files(self) -> list[ArchivedFile]:
        """Every archived file once, with the first message that brought it."""
        seen: dict[str, ArchivedFile] = {}
        for meta in self.messages():
            for f in meta.get("files", []):
                sha = f["sha256"]
                if sha in seen:
                    continue
                path = self.root / f["stored_as"]
                seen[sha] = ArchivedFile(sha, path, f.get("name") or path.name, f.get("kind", ""), f.get("via", ""), meta)
        return list(seen.values())

    @staticmethod
    def _file_in(folder: Path) -> Path | None:
        if not folder.is_dir():
            return None
        for p in sorted(folder.iterdir()):
            if p.is_file() and not p.name.startswith("."):
                return p
        return None


def _ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)  # mkdir's mode is masked by umask and ignored for existing dirs
