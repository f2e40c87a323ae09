"""Atomic writes never leave torn files and never clobber by accident."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apdocs.fileio import OutputExistsError, atomic_write_bytes


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]  # no temp files left


def test_refuses_to_clobber_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"user's")
    with pytest.raises(OutputExistsError) as exc:
        atomic_write_bytes(target, b"ours", overwrite=False)
    assert str(target) in str(exc.value)
    assert target.read_bytes() == b"user's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_no_clobber_guard_holds_when_the_file_appears_after_the_check(tmp_path: Path, monkeypatch) -> None:
    """Another writer creating the file between our check and our publish must win, not be replaced."""
    target = tmp_path / "out.bin"
    real_exists = Path.exists

    def exists_then_race(self: Path) -> bool:
        result = real_exists(self)
        if self == target and not result:
            target.write_bytes(b"theirs")  # the other writer lands right after our check
        return result

    monkeypatch.setattr(Path, "exists", exists_then_race)
    with pytest.raises(OutputExistsError):
        atomic_write_bytes(target, b"ours", overwrite=False)
    assert target.read_bytes() == b"theirs"
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


def test_mode_is_applied(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / "secret.bin", b"x", mode=0o600)
    assert target.stat().st_mode & 0o777 == 0o600
