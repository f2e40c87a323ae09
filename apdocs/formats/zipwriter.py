"""A zip writer for rendered documents: unchanging entries deflated once, a few parts per call.

Shared by the docx and xlsx renderers. Entries are written by hand (local headers, central
directory, end record) because zipfile cannot take data that is already compressed.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable


class ZipWriter:
    """Writes a zip from pre-deflated static entries plus a few parts deflated per call.

    zipfile cannot take data that is already compressed, and re-deflating ~50 KB of
    unchanging styles/theme/settings per document would cost more than the rest of
    the render. Static entries come first so their offsets and central-directory
    records are fixed bytes.
    """

    def __init__(self, when: time.struct_time, *, level: int) -> None:
        """``when``: the entries' timestamp; ``level``: deflate level of the per-call parts (static ones get 9)."""
        self._level = level
        self._time = (when.tm_hour << 11) | (when.tm_min << 5) | (when.tm_sec // 2)
        self._date = ((max(when.tm_year, 1980) - 1980) << 9) | (when.tm_mon << 5) | when.tm_mday
        self._local = bytearray()
        self._central = bytearray()
        self._count = 0

    def _entry(self, name: str, data: bytes, level: int) -> tuple[bytes, Callable[[int], bytes]]:
        co = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed = co.compress(data) + co.flush()
        crc = zlib.crc32(data)
        raw = name.encode("utf-8")
        head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, self._time, self._date, crc, len(packed), len(data), len(raw), 0)

        def central(offset: int) -> bytes:
            return (
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    20,
                    20,
                    0,
                    8,
                    self._time,
                    self._date,
                    crc,
                    len(packed),
                    len(data),
                    len(raw),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + raw
            )

        return head + raw + packed, central

    def add_static(self, name: str, data: bytes) -> None:
        local, central = self._entry(name, data, 9)
        self._central += central(len(self._local))
        self._local += local
        self._count += 1

    def finish(self, dynamic: list[tuple[str, bytes]]) -> bytes:
        out = [bytes(self._local)]
        central = [bytes(self._central)]
        offset = len(self._local)
        for name, data in dynamic:
            local, make_central = self._entry(name, data, self._level)
            central.append(make_central(offset))
            out.append(local)
            offset += len(local)
        cd = b"".join(central)
        count = self._count + len(dynamic)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(cd), offset, 0)
        return b"".join(out) + cd + end
