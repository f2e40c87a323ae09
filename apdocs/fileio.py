"""Safe file writing: atomic replace, never clobber what the user gave us by accident."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from apdocs.errors import ApdocsError


class OutputExistsError(ApdocsError):
    code = "OUTPUT_EXISTS"


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True, mode: int | None = None, durable: bool = True
) -> Path:
    """Write ``data`` to ``path`` via temp file + fsync + rename.

    A crash leaves either the old file or the new one, never a torn file.
    With ``overwrite=False`` an existing file is an :class:`OutputExistsError`.
    ``durable=False`` skips both fsyncs: for a batch of files made durable together
    afterwards with :func:`sync_files` (one fsync each at the end costs far less than
    two interleaved with the writes, which forces a journal commit per file).
    """
    target = Path(path)
    if not overwrite and target.exists():  # cheap early answer; the link below is the real guard
        raise OutputExistsError("file exists; pass --force to replace it", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, target)
        else:
            _link_no_clobber(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(target.parent)
    return target


def sync_files(paths: Iterable[Path]) -> None:
    """fsync each file, then each folder holding them once, so their contents and names are on disk."""
    folders: dict[Path, None] = {}
    for p in paths:
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError:
            continue  # gone already: nothing of it to keep
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        folders[p.parent] = None
    for folder in folders:
        _fsync_dir(folder)


def _link_no_clobber(tmp: str, target: Path) -> None:
    """Publish ``tmp`` as ``target`` only if nothing is there, atomically.

    A hard link fails if the name exists, so two writers racing for the same new file
    cannot clobber each other (an exists-check followed by rename could). Filesystems
    without hard links fall back to that check-then-rename.
    """
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputExistsError("file exists; pass --force to replace it", path=str(target)) from None
    except OSError:
        if target.exists():
            raise OutputExistsError("file exists; pass --force to replace it", path=str(target)) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    # Make the rename itself durable; not all platforms allow opening a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
