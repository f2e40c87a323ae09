"""Parsing on several worker processes: same records in the same order as one process, and a
file that crashes or hangs its worker is a typed failure while the batch goes on."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from apdocs import api
from apdocs.cli import main
from apdocs.forms import FORM_IDS
from apdocs.parse import parse_many
from apdocs.workers import run_ordered
from tests.worker_faults import faulty_reader

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "returns"


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """Good returns in both formats, the bundled samples, and broken files of several kinds,
    interleaved by name so that good and bad files share workers."""
    folder = tmp_path_factory.mktemp("batch")
    n = 0
    for i in range(6):
        for form_id in FORM_IDS:
            fmt = "xlsx" if i % 2 else "docx"
            values = {"school_name": f"School {i}", "reference": f"SYN-{i:03d}-{form_id}"}
            (folder / f"{n:03d}-{form_id}.{fmt}").write_bytes(api.render_form(form_id, fmt, values))
            n += 1
            if n % 4 == 0:
                bad = folder / f"{n:03d}-broken"
                kind = n % 3
                if kind == 0:
                    bad.with_suffix(".docx").write_bytes(b"")
                elif kind == 1:
                    bad.with_suffix(".xlsx").write_bytes(b"%PDF-1.4 not really a workbook")
                else:
                    good = api.render_form(form_id, "docx", values)
                    bad.with_suffix(".docx").write_bytes(good[: len(good) // 2])
                n += 1
    for p in sorted(SAMPLES.glob("*.docx")):
        shutil.copy(p, folder / f"{n:03d}-{p.name}")
        n += 1
    zipped = folder / f"{n:03d}-not-a-form.docx"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    return folder


def dicts(results) -> list[dict]:
    return [r.to_dict() for r in results]


def test_two_jobs_give_the_same_records_in_the_same_order_as_one(batch):
    one = list(parse_many([batch], jobs=1))
    two = list(parse_many([batch], jobs=2))
    assert any(not r.ok for r in one) and any(r.ok for r in one)  # the batch mixes both
    assert [r.source.path for r in two] == [r.source.path for r in one] == sorted(r.source.path for r in one)
    assert dicts(two) == dicts(one)
    # the records themselves, not only their JSON: typed values and warnings survive the trip
    assert [r for r in two if r.ok] == [r for r in one if r.ok]
    assert [(type(r.error), r.error.code, r.error.path) for r in two if not r.ok] == [
        (type(r.error), r.error.code, r.error.path) for r in one if not r.ok
    ]


def test_cli_jobs_2_and_jobs_1_print_identical_json(batch):
    runner = CliRunner()
    one = runner.invoke(main, ["parse", "--json", "--jobs", "1", str(batch)])
    two = runner.invoke(main, ["parse", "--json", "--jobs", "2", str(batch)])
    assert one.exit_code == two.exit_code == 1  # some files are broken
    assert json.loads(two.stdout) == json.loads(one.stdout)
    assert two.stdout == one.stdout


def test_a_crashing_or_hanging_file_is_a_typed_failure_and_the_batch_goes_on(batch, tmp_path):
    folder = tmp_path / "faults"
    shutil.copytree(batch, folder)
    names = sorted(p.name for p in folder.iterdir())
    (folder / names[3]).rename(folder / f"{names[3]}-crash.docx")
    (folder / names[7]).rename(folder / f"{names[7]}-hang.docx")
    (folder / names[8]).rename(folder / f"{names[8]}-crash.docx")  # right behind the hang: same worker queue
    expected = {r.source.path: r for r in parse_many([folder], jobs=1)}

    got = list(parse_many([folder], jobs=2, timeout=2.0, _reader=faulty_reader))

    assert [r.source.path for r in got] == sorted(expected)
    for r in got:
        name = Path(r.source.path).name
        if "crash" in name:
            assert (r.ok, r.error.code, r.error.path) == (False, "WORKER_CRASHED", r.source.path)
            assert r.source.sha256  # named by its bytes, like any failure
        elif "hang" in name:
            assert (r.ok, r.error.code) == (False, "READ_TIMEOUT")
        else:
            assert r.to_dict() == expected[r.source.path].to_dict()


def _double(x: int) -> int:
    return 2 * x


def _die_on_odd(x: int) -> int:
    import os

    if x % 2:
        os._exit(1)
    return x


def test_run_ordered_keeps_input_order_and_bounds_what_it_holds():
    pulled: list[int] = []

    def items():
        for i in range(200):
            pulled.append(i)
            yield i

    out = []
    for r in run_ordered(_double, items(), jobs=2, timeout=None, on_fault=lambda i, why: -1, window=8):
        out.append(r)
        # never more than the window ahead of what has been yielded
        assert len(pulled) - len(out) <= 8
    assert out == [2 * i for i in range(200)]


def test_run_ordered_survives_every_other_worker_dying():
    out = list(run_ordered(_die_on_odd, range(20), jobs=2, timeout=None, on_fault=lambda i, why: (i, why)))
    assert out == [i if i % 2 == 0 else (i, "crashed") for i in range(20)]


def test_one_job_stays_in_this_process():
    import os

    def where(path: str):
        from apdocs.parse import parse_path

        where.pids.add(os.getpid())  # type: ignore[attr-defined]
        return parse_path(path)

    where.pids = set()  # type: ignore[attr-defined]
    list(parse_many([SAMPLES], jobs=1, _reader=where))
    assert where.pids == {os.getpid()}  # type: ignore[attr-defined]


def _die_between_tasks(x: int) -> int:
    """Answers, then dies before the next task arrives (as the OOM killer might take an idle worker)."""
    import os
    import threading

    if x == 3:
        threading.Timer(0.2, os._exit, args=(1,)).start()
    return x


def test_a_worker_that_dies_after_answering_charges_no_item():
    import time

    def slow_items():
        for i in range(8):
            if i == 4:
                time.sleep(0.5)  # let the worker that answered 3 die idle
            yield i

    out = list(run_ordered(_die_between_tasks, slow_items(), jobs=2, timeout=None, on_fault=lambda i, why: (i, why)))
    assert out == list(range(8))
