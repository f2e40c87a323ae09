"""Raw deflate and CRC-32 for reading zip parts: zlib-ng where it is installed, else the standard library.

zlib-ng (the ``zlib-ng`` package: the standard ``zlib`` module's API and code over the zlib-ng
library) inflates a return's main part about 1.6x and checksums it about 4x as fast as the zlib
CPython is built with: ~12-25 us of each parse. Deflate decoding is fully specified, so both give
the same bytes, the same checksums and the same refusals (``tests/test_inflate.py`` holds them to
it); only the error's wording may differ. Only reading uses it: apdocs' writers keep the standard
library, whose compressed bytes the tests' golden files pin.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

_backend: ModuleType
try:
    from zlib_ng import zlib_ng as _backend
except ImportError:  # a platform with no zlib-ng wheel: the standard library's zlib, as before
    _backend = zlib

#: Which library inflates: "zlib-ng" or "zlib".
BACKEND = "zlib" if _backend is zlib else "zlib-ng"
#: What a damaged stream raises, from either library.
Error: tuple[type[Exception], ...] = (zlib.error, _backend.error)  # zlib-ng's own class: not zlib.error
#: CRC-32 as zip stores it (unsigned).
crc32: Callable[[bytes], int] = _backend.crc32


def raw_decompressor() -> Any:
    """A raw deflate stream's decompressor, as ``zlib.decompressobj(-15)``: ``decompress(data,
    max_length)`` and ``unconsumed_tail``."""
    return _backend.decompressobj(-15)
