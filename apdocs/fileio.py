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
    if not overwrite and target.exists():
        raise OutputExistsError("file exists; pass --force to replace it", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(target.parent)
    return target


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
