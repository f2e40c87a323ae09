"""Safe file writing: atomic replace, never clobber what the user gave us by accident."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from apdocs.errors import ApdocsError


class OutputExistsError(ApdocsError):
    code = "OUTPUT_EXISTS"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` via temp file + fsync + rename.

    A crash leaves either the old file or the new one, never a torn file.
    With ``overwrite=False`` an existing file is an :class:`OutputExistsError`.
    """
    target = Path(path)
    if not overwrite and target.exists():  # cheap early answer; the link below is the real guard
        raise OutputExistsError("file exists; pass --force to replace it", path=str(target))
    if _is_special(target):
        # /dev/null, /dev/stdout, a pipe: nothing to replace atomically, and renaming over a
        # device node (as root) would put a plain file where /dev/null was. Write into it.
        with open(target, "wb") as fh:
            fh.write(data)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
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
    _fsync_dir(target.parent)
    return target


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
