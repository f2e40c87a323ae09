"""The one progress bar every long command shows (tqdm): count, rate and ETA, on stderr.

Shown only when a person is watching: stdout and stderr both terminals and no ``--json``.
Piped or redirected output, and machine-readable output, stay exactly as they were.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

import click

T = TypeVar("T")


def wanted(*, as_json: bool = False) -> bool:
    """Whether to draw bars: a person at a terminal, and not asking for JSON."""
    return not as_json and sys.stdout.isatty() and sys.stderr.isatty()


class Progress:
    """A bar over a known (or unknown) number of items; a no-op when not ``show``."""

    def __init__(self, *, total: int | None, unit: str, label: str, show: bool) -> None:
        self._bar: Any = None
        if show:
            from tqdm import tqdm  # imported only when a bar is drawn: piped runs never pay for it

            # No monitor thread: --jobs forks worker processes while the bar is up, and a
            # fork must not copy a process whose other thread may hold a lock.
            tqdm.monitor_interval = 0
            # leave=False: the bar is cleared when done, so the command's own lines read as before.
            self._bar = tqdm(total=total, unit=f" {unit}", desc=label, file=sys.stderr, leave=False, dynamic_ncols=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def wrap(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` unchanged, counted as each one is consumed."""
        for item in items:
            yield item
            self.update()

    def echo(self, line: str, *, err: bool = False) -> None:
        """Print a line; with a bar up, above it (a plain print would tear the bar)."""
        if self._bar is None:
            click.echo(line, err=err)
        else:
            self._bar.write(line, file=sys.stderr if err else sys.stdout)
