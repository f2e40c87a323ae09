"""Command-line interface: a thin layer over the public API.

Exit codes (documented in README):
  0  everything asked for was done
  1  done, but some inputs failed (each is reported; the batch went on)
  2  usage error (bad option or argument)
  3  could not run at all (e.g. invalid roster or config)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from apdocs.errors import ApdocsError
from apdocs.profile import PROFILE_ENV, Profile, load_profile
from apdocs.record_scrub import strict_json

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_FATAL = 0, 1, 2, 3


def emit_json(data: Any) -> None:
    click.echo(strict_json(data))


# The register (officers' decisions and history): a file path or a database URL.
db_option = click.option(
    "--db",
    "db",
    metavar="PATH|URL",
    default=None,
    help="The register: a SQLite file or a postgresql+psycopg:// URL (default: $APDOCS_DB, else apdocs.db here).",
)


def fail(exc: ApdocsError) -> None:
    """Report a fatal, typed error and exit 3."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_FATAL)


def refuse_output_over_input(outputs: Iterable[Path | None], inputs: Iterable[Path]) -> None:
    """Exit 3 if an output path is one of the input files (a typo must never destroy a roster or a return)."""
    given = {p.resolve() for p in inputs if p.exists()}
    for out in outputs:
        if out is not None and out.resolve() in given:
            fail(ApdocsError("refusing to overwrite an input file", code="OUTPUT_IS_INPUT", path=str(out)))


def _jobs(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter("must be at least 1")
    return value


#: ``--jobs N`` for every command that reads returns: worker processes, default every core.
jobs_option = click.option(
    "--jobs",
    "-j",
    type=int,
    default=None,
    callback=_jobs,
    metavar="N",
    help="Read returns on N processes (default: every core; 1 reads in this process).",
)


def _load_profile(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Profile:
    try:
        return load_profile(value)
    except ApdocsError as exc:
        fail(exc)  # an unreadable profile means nothing can run: exit 3, like a bad config
        raise  # not reached: fail() exits


F = TypeVar("F", bound=Callable[..., Any])


def profile_option(f: F) -> F:
    """``--profile PATH`` (or ``$APDOCS_PROFILE``): the Virtual School's profile, passed as ``profile``.

    One helper for every command, so each takes the option the same way; without it the bundled
    (Leicestershire) profile is used.
    """
    option = click.option(
        "--profile",
        "profile",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=PROFILE_ENV,
        callback=_load_profile,
        help=f"The Virtual School's profile YAML (default: ${PROFILE_ENV}, else the bundled one; see `apdocs init`).",
    )
    return option(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="apdocs")
def main() -> None:
    """apdocs: alternative-provision quality-assurance forms for Virtual Schools."""


# Each command group lives in its own module and registers itself on `main`.
from apdocs.cli import (  # noqa: E402,F401
    findings_cmd,
    forms_cmd,
    init_cmd,
    letters_cmd,
    mail_cmd,
    parse_cmd,
    reconcile_cmd,
    report_cmd,
)
