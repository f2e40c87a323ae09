"""Test-only readers for ``parse_many(..., _reader=...)``: they crash or hang a worker on chosen files.

Never used outside tests. A file whose name contains ``crash`` kills the worker process outright
(``os._exit``, as a segfault in a C library would: no exception, no cleanup); one containing
``hang`` sleeps far longer than the test's timeout. Every other file is read normally.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from apdocs.parse import parse_path
from apdocs.record import ParsedReturn, ParseFailure


def faulty_reader(path: str) -> ParsedReturn | ParseFailure:
    name = Path(path).name
    if "crash" in name:
        os._exit(70)
    if "hang" in name:
        time.sleep(600)
    return parse_path(path)
