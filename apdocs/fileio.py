"""Safe file writing: atomic replace, never clobber what the user gave us by accident, dated backups."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from apdocs.errors import ApdocsError


class OutputExistsError(ApdocsError):
    code = "OUTPUT_EXISTS"


def atomic_write_bytes(
    path: str | os.PathLike[str],
    data: bytes | IO[bytes],
    *,
    overwrite: bool = True,
    mode: int | None = None,
    durable: bool = True,
) -> Path:
    """Write ``data`` (bytes, or a binary file read from its start) to ``path`` via temp file + fsync + rename.

    A crash leaves either the old file or the new one, never a torn file.
    With ``overwrite=False`` an existing file is an :class:`OutputExistsError`.
    ``durable=False`` skips both fsyncs: for a batch of files made durable together
    afterwards with :func:`sync_files` (one fsync each at the end costs far less than
    two interleaved with the writes, which forces a journal commit per file).
    """
    target = Path(path)
    if not overwrite and target.exists():  # cheap early answer; the link below is the real guard
        raise OutputExistsError("file exists; pass --force to replace it", path=str(target))
    if _is_special(target):
        # /dev/null, /dev/stdout, a pipe: nothing to replace atomically, and renaming over a
        # device node (as root) would put a plain file where /dev/null was. Write into it.
        with open(target, "wb") as fh:
            _write(fh, data)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(fh, data)
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


def scratch_file(near: str | os.PathLike[str]) -> IO[bytes]:
    """An unnamed temporary file for output on its way to ``near`` (a folder): on the same disk if
    it can be (not in memory, as /tmp may be), and gone when closed, or when the process is killed."""
    try:
        return tempfile.TemporaryFile(dir=near)
    except OSError:  # a folder that takes no files of ours (/dev for /dev/null, say)
        return tempfile.TemporaryFile()


def _write(fh: IO[bytes], data: bytes | IO[bytes]) -> None:
    if isinstance(data, bytes | bytearray | memoryview):
        fh.write(data)
    else:
        data.seek(0)
        shutil.copyfileobj(data, fh, 1 << 20)


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


def _is_special(target: Path) -> bool:
    """Whether ``target`` exists and is neither a regular file nor a folder (a device, a FIFO)."""
    return target.exists() and not (target.is_file() or target.is_dir())


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


def backup_name(target: Path, when: dt.datetime, n: int = 1) -> Path:
    """``tracker.xlsx`` -> ``tracker.2026-11-30T1830.xlsx`` (``-2``, ``-3``... for a second one that minute)."""
    stamp = when.strftime("%Y-%m-%dT%H%M") + ("" if n == 1 else f"-{n}")
    return target.with_name(f"{target.stem}.{stamp}{target.suffix}")


_BACKUP_STAMP = re.compile(r"\.\d{4}-\d{2}-\d{2}T\d{4}(-\d+)?$")


def is_backup_of(candidate: str | os.PathLike[str], target: str | os.PathLike[str]) -> bool:
    """Whether ``candidate`` is one of :func:`keep_backup`'s copies of ``target``."""
    c, t = Path(candidate), Path(target)
    if c.suffix != t.suffix or os.path.realpath(c.parent) != os.path.realpath(t.parent):
        return False
    return c.stem.startswith(t.stem) and bool(_BACKUP_STAMP.fullmatch(c.stem[len(t.stem) :]))


def keep_backup(target: str | os.PathLike[str], when: dt.datetime) -> Path | None:
    """Keep the file at ``target`` under a dated name beside it, never replacing an earlier backup.

    A hard link, so the backup is the very file the user had, made atomically; where links are
    not available, a no-clobber copy. Returns the backup's path, or None if there was no file.
    """
    path = Path(target)
    if not path.is_file():
        # Nothing, or a device or pipe (``-o /dev/null``): no file of the user's to keep, and a
        # "backup" of /dev/null would be a second name for the device beside it.
        return None
    for n in range(1, 1000):
        name = backup_name(path, when, n)
        try:
            os.link(path, name)
        except FileExistsError:
            continue
        except OSError:
            try:
                atomic_write_bytes(name, path.read_bytes(), overwrite=False)
            except OutputExistsError:
                continue
        _fsync_dir(path.parent)
        return name
    raise OutputExistsError("too many backups of this file in one minute", path=str(path))


@contextmanager
def exclusive_lock(lock_path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (created if needed), waiting for it if taken.

    POSIX only; elsewhere it does nothing and the atomic writes still hold.
    """
    with open(lock_path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
