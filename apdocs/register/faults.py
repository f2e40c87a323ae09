"""Named points in a run where a test can pause the process, to kill it there or race it.

``APDOCS_PAUSE_AT=NAME`` makes the process print ``apdocs-pause: NAME`` on stderr when it
reaches the point NAME, then sleep ``APDOCS_PAUSE_SECONDS`` (default an hour). The crash tests
``kill -9`` it while it sleeps; the concurrency tests let it go on while another process runs.
Unset (always, outside tests), a checkpoint does nothing.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "APDOCS_PAUSE_AT"
SECONDS_ENV = "APDOCS_PAUSE_SECONDS"
POINTS = ("tracker-read", "transaction-begun", "returns-stored", "findings-recorded", "before-commit", "committed", "backup-kept")


def checkpoint(name: str) -> None:
    if os.environ.get(PAUSE_ENV) != name:
        return
    print(f"apdocs-pause: {name}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get(SECONDS_ENV) or 3600))
