"""Run one function over many items on several processes, yielding results in input order.

Why not ``multiprocessing.Pool`` or ``concurrent.futures``: a worker that dies (a segfault in a
C library, ``os._exit``) breaks a ``ProcessPoolExecutor`` for every task in it, and a hung task
blocks ``Pool.imap`` for ever. Here every worker has its own pipe and a short queue of tasks, so
the parent always knows which item a worker was on when it died or overran its time: that item
alone becomes a failure (built by the caller's ``on_fault``), the worker is replaced, the items
queued behind it are handed out again, and the batch goes on.

Memory is bounded: at most ``window`` items are in flight or waiting to be yielded in order, so a
slow file holds back at most ``window`` finished results, never the whole batch.
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Tasks queued in a worker's pipe ahead of the one it is on, so it never waits for the parent.
PREFETCH = 4


def cpu_count() -> int:
    """Cores this process may use (the affinity mask, not the machine's total where they differ)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _serve(conn: multiprocessing.connection.Connection, fn: Callable[[Any], Any]) -> None:
    """A worker: call ``fn`` on each item received, send back (seq, result); None means stop."""
    # Ctrl-C reaches the whole process group: the parent decides (it stops its workers on the
    # way out); a worker printing its own KeyboardInterrupt traceback would only add noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the parent has gone
            return
        if msg is None:
            return
        seq, item = msg
        conn.send((seq, fn(item)))


@dataclass
class _Worker(Generic[T]):
    process: Any  # multiprocessing.process.BaseProcess (its stubs vary by context)
    conn: multiprocessing.connection.Connection
    # (seq, item) sent and not yet answered, oldest first: the head is the one being worked on.
    pending: collections.deque[tuple[int, T]] = field(default_factory=collections.deque)
    head_since: float = 0.0  # when the head task started (or was sent, if the worker was idle)

    def stop(self, *, kill: bool) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.process.kill()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _context() -> Any:
    # fork where it is safe (Linux): a worker starts in about a millisecond with apdocs already
    # imported and its caches warm, and, unlike spawn or forkserver, it does not re-run the
    # caller's main script, so a library user's unguarded script cannot fork-bomb itself.
    # apdocs starts no threads of its own before a batch. macOS and Windows use spawn.
    methods = multiprocessing.get_all_start_methods()
    use_fork = "fork" in methods and sys.platform.startswith("linux")
    return multiprocessing.get_context("fork" if use_fork else "spawn")


def run_ordered(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    jobs: int,
    timeout: float | None,
    on_fault: Callable[[T, str], R],
    window: int | None = None,
) -> Iterator[R]:
    """``fn(item)`` for each item on ``jobs`` worker processes, in input order.

    ``fn`` must be a module-level function and must not raise (catch and return a failure).
    When a worker dies on an item, ``on_fault(item, "crashed")`` is yielded in its place; when
    an item runs longer than ``timeout`` seconds, its worker is killed and
    ``on_fault(item, "timeout")`` is yielded. Workers start only as the batch needs them.
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    window = window or jobs * PREFETCH * 2
    ctx = _context()
    source = iter(items)
    retry: collections.deque[tuple[int, T]] = collections.deque()  # items whose worker died under them
    workers: list[_Worker[T]] = []
    done: dict[int, R] = {}
    next_seq = next_out = 0
    exhausted = False

    def start() -> _Worker[T]:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, fn), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent)

    def take(w: _Worker[T], seq: int, result: R) -> None:
        head_seq, _ = w.pending.popleft()
        assert head_seq == seq, "a worker answers its tasks in order"
        done[seq] = result
        w.head_since = time.monotonic()

    def drain(w: _Worker[T]) -> None:
        """Read every result already in the worker's pipe (it may have died just after sending them)."""
        try:
            while w.pending and w.conn.poll():
                take(w, *w.conn.recv())
        except (EOFError, OSError):
            pass

    def lose(w: _Worker[T], reason: str) -> None:
        """The worker is gone (or is to be killed): the item it is on faults, the rest go round again.

        Results it sent before dying are taken first, so the item charged is the one it died on."""
        drain(w)
        workers.remove(w)
        w.stop(kill=True)
        if w.pending:
            seq, item = w.pending.popleft()
            done[seq] = on_fault(item, reason)
            retry.extendleft(reversed(w.pending))

    def feed() -> None:
        nonlocal next_seq, exhausted
        while retry or (not exhausted and next_seq - next_out < window):
            free = [w for w in workers if len(w.pending) < PREFETCH]
            idle = [w for w in free if not w.pending]
            if idle:
                w = idle[0]
            elif len(workers) < jobs:
                w = start()
                workers.append(w)
            elif free:
                w = min(free, key=lambda x: len(x.pending))
            else:
                return
            if retry:
                task = retry.popleft()
            else:
                try:
                    task = (next_seq, next(source))
                except StopIteration:
                    exhausted = True
                    return
                next_seq += 1
            if not w.pending:
                w.head_since = time.monotonic()
            w.pending.append(task)
            try:
                w.conn.send(task)
            except OSError:  # the worker is gone: this task never reached it, so it goes round again
                w.pending.pop()
                retry.appendleft(task)
                lose(w, "crashed")

    try:
        while True:
            feed()
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            busy = [w for w in workers if w.pending]
            if not busy:
                if exhausted and not retry:
                    return
                continue
            wait_for: float | None = None
            if timeout is not None:
                now = time.monotonic()
                wait_for = max(0.0, min(w.head_since + timeout for w in busy) - now)
            ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=wait_for)
            for w in busy:
                if w.conn not in ready:
                    continue
                try:
                    seq, result = w.conn.recv()
                except (EOFError, OSError):
                    lose(w, "crashed")
                    continue
                take(w, seq, result)
            if timeout is not None:
                for w in [w for w in workers if w.pending and time.monotonic() - w.head_since >= timeout]:
                    drain(w)  # an answer may have arrived since the wait
                    if w.pending and time.monotonic() - w.head_since >= timeout:
                        lose(w, "timeout")
    finally:
        for w in workers:
            w.stop(kill=bool(w.pending))
