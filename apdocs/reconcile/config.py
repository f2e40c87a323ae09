"""Reconciliation thresholds: defaults are the letter's values, overridable from a YAML file."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from apdocs.errors import ApdocsError
from apdocs.profile import Profile


class ConfigError(ApdocsError):
    code = "CONFIG_INVALID"


@dataclass(frozen=True)
class Config:
    el_legal_minimum: float
    pl_checklist_minimum: float
    el_council_expectation: float
    pl_council_expectation: float
    pi_council_expectation: float
    full_time_daytime_hours: float
    full_time_pupils: int
    substantially_all_share: float
    evidence_stale_months: int
    assessment_overdue_months: int
    full_time_package_hours: float
    min_answer_chars: int
    yes_no_questions: tuple[str, ...]
    non_answers: tuple[str, ...]
    core_subjects: dict[str, tuple[str, ...]]
    provided_elsewhere: tuple[str, ...]
    review_frequency_patterns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else {k: list(w) for k, w in v.items()} if isinstance(v, dict) else v
        return out


_NUMBERS = {"float": float, "int": int}


def _coerce(name: str, kind: str, value: Any, path: str | None) -> Any:
    def bad(why: str) -> ConfigError:
        return ConfigError(f"config key {name!r} {why}", path=path)

    if kind in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise bad("must be a non-negative number")
        if kind == "int" and value != int(value):
            raise bad("must be a whole number")
        return _NUMBERS[kind](value)
    if kind.startswith("tuple"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad("must be a list of text")
        if name == "review_frequency_patterns":
            for pattern in value:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise bad(f"has an invalid pattern {pattern!r}: {exc}") from exc
        return tuple(value)
    if not isinstance(value, dict) or not value or not all(isinstance(v, list) and v for v in value.values()):
        raise bad("must map each subject to a list of words")
    return {str(k): tuple(str(w) for w in v) for k, v in value.items()}


def _build(data: dict[str, Any], path: str | None) -> Config:
    kinds = {f.name: str(f.type) for f in fields(Config)}
    unknown = sorted(set(data) - set(kinds))
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(unknown)}", path=path)
    return Config(**{k: _coerce(k, kinds[k], v, path) for k, v in data.items()})


def _read(text: str, path: str | None) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config is not valid YAML: {exc}", path=path) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("config must be a YAML mapping of key: value", path=path)
    return data


def default_config() -> Config:
    text = resources.files("apdocs.reconcile").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return _build(_read(text, "defaults.yaml"), "defaults.yaml")


def load_config(path: str | Path | None = None, *, profile: Profile | None = None, **overrides: Any) -> Config:
    """The defaults, overridden by the profile's ``thresholds``, then the keys in ``path`` (if given),
    then ``overrides``: the letter's values, then this Virtual School's, then this run's."""
    base = default_config().to_dict()
    if profile is not None and profile.thresholds:
        mine = {k: list(v) if isinstance(v, tuple) else v for k, v in profile.thresholds}
        where = f"{profile.path or 'profile'} (thresholds)"
        _build({**base, **mine}, where)  # validate the profile's keys, naming its file
        base.update(mine)
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config: {exc}", path=str(p)) from exc
        user = _read(text, str(p))
        _build({**base, **user}, str(p))  # validate the user's keys, naming their file
        base.update(user)
    base.update(overrides)
    return _build(base, str(path) if path else None)
