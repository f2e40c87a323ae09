"""The send log: an append-only JSON-lines journal that makes ``apdocs send`` re-runnable.

For each message, ``attempt`` is written (and fsynced) *before* the SMTP transaction and
``sent``, ``failed`` or ``uncertain`` after it. On a re-run:

* ``sent`` -> never sent again;
* ``failed`` (the server refused it, or the connection broke before the end of the message
  data went out, so the server cannot have it) -> sent again;
* ``uncertain`` (the connection broke after the whole message went out, before the server's
  reply), or ``attempt`` with no outcome (the run died mid-transaction) -> nobody knows
  whether the server took it. It is *not* resent unless asked (``--resend-uncertain``): a
  duplicate to a school is worse than a message the officer checks by hand.

Messages are keyed by their Message-ID, which ``apdocs pack`` makes deterministic.
A torn last line (power cut mid-append) is ignored on reading.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

State = Literal["pending", "sent", "failed", "uncertain"]
#: A message's state after each logged event: an attempt with no outcome logged is uncertain.
_STATE_AFTER: dict[str, State] = {"attempt": "uncertain", "uncertain": "uncertain", "sent": "sent", "failed": "failed"}
LOG_NAME = "send-log.jsonl"


@dataclass(frozen=True)
class LogEntry:
    event: Literal["attempt", "sent", "failed", "uncertain"]
    message_id: str
    file: str
    at: str
    detail: str | None = None


class SendLog:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def entries(self) -> list[LogEntry]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                d = json.loads(line)
                if d["event"] not in _STATE_AFTER:
                    continue  # an event this version does not know says nothing it can act on
                out.append(LogEntry(d["event"], d["message_id"], d.get("file", ""), d.get("at", ""), d.get("detail")))
            except (ValueError, KeyError, TypeError):
                continue  # a torn final line from a crash mid-append
        return out

    def states(self) -> dict[str, State]:
        """Message-ID -> what is known about it (last event wins)."""
        state: dict[str, State] = {}
        for e in self.entries():
            state[e.message_id] = _STATE_AFTER[e.event]
        return state

    def record(self, event: str, message_id: str, file: str, detail: str | None = None) -> None:
        entry: dict[str, Any] = {
            "event": event,
            "message_id": message_id,
            "file": file,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        if detail:
            entry["detail"] = detail
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
        # O_APPEND + fsync: each record is durable before the next step is taken.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if not self._ends_with_newline():
                os.write(fd, b"\n")  # seal off a torn line so this record parses
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _ends_with_newline(self) -> bool:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                if fh.tell() == 0:
                    return True
                fh.seek(-1, os.SEEK_END)
                return fh.read(1) == b"\n"
        except OSError:
            return True
