"""`apdocs findings`, `apdocs history`, `apdocs register purge`: the register from the command line."""

from __future__ import annotations

import datetime as dt

import click

from apdocs.cli import db_option, emit_json, fail, main, profile_option
from apdocs.errors import ApdocsError
from apdocs.profile import Profile


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@main.group("findings")
def findings_group() -> None:
    """List findings the register remembers, and record officers' decisions on them."""


@findings_group.command("list")
@click.option("--status", type=click.Choice(["open", "resolved", "accepted", "reopened"]), help="Only findings in this status.")
@click.option("--school", help="Only this school's findings (name; case and punctuation ignored).")
@click.option("--json", "as_json", is_flag=True)
@db_option
@profile_option  # taken for uniformity: the register is the same whatever the profile
def list_cmd(status: str | None, school: str | None, as_json: bool, db: str | None, profile: Profile) -> None:
    """Every finding the register knows, with its status and latest decision."""
    from apdocs.register.db import open_engine, read_transaction
    from apdocs.register.findings import list_findings

    try:
        engine = open_engine(db)
        with read_transaction(engine) as conn:
            states = list_findings(conn, status=status, school=school)
    except ApdocsError as exc:
        fail(exc)
        return
    today = dt.date.today()
    if as_json:
        emit_json([s.to_dict(today) for s in states])
        return
    for s in states:
        who = " / ".join(x for x in (s.school, s.pupil_reference, s.provider, s.form, s.item) if x)
        click.echo(f"{s.key}  {s.status:<8}  {s.severity:<8}  {s.code}  {who}  (first raised {s.first_raised.isoformat()})")
        if s.decision is not None:
            d = s.decision
            until = f" until {d.until.isoformat()}" if d.until else ""
            note = f": {d.note}" if d.note else ""
            click.echo(f"    {d.decision or 'cleared'}{until} by {d.by} ({d.source}, {d.at:%Y-%m-%d %H:%M} UTC){note}")
    click.echo(f"{len(states)} finding(s)")


@findings_group.command("accept")
@click.argument("key")
@click.option("--note", required=True, help="Why the finding is accepted (kept with the decision).")
@click.option("--until", "until", metavar="YYYY-MM-DD", callback=_date, help="Review by: after this date it is open again.")
@click.option("--by", "by", help="Who decided (default: the user running apdocs).")
@db_option
@profile_option  # taken for uniformity: the register is the same whatever the profile
def accept_cmd(key: str, note: str, until: dt.date | None, by: str | None, db: str | None, profile: Profile) -> None:
    """Accept the finding KEY: it stays accepted on every later run while it is raised."""
    from apdocs.register.db import open_engine, write_transaction
    from apdocs.register.findings import accept
    from apdocs.reports.registered_run import officer_name, utc_now

    try:
        with write_transaction(open_engine(db)) as conn:
            state = accept(conn, key.strip(), note, by or officer_name(), utc_now(), until)
    except ApdocsError as exc:
        fail(exc)
        return
    click.echo(f"{state.key}: {state.status} ({state.code}); the tracker shows it from the next run")


@findings_group.command("reopen")
@click.argument("key")
@click.option("--note", default=None, help="Why (default: keep the note already there).")
@click.option("--by", "by", help="Who decided (default: the user running apdocs).")
@db_option
@profile_option  # taken for uniformity: the register is the same whatever the profile
def reopen_cmd(key: str, note: str | None, by: str | None, db: str | None, profile: Profile) -> None:
    """Withdraw an acceptance of the finding KEY: it is reopened and chased again."""
    from apdocs.register.db import open_engine, write_transaction
    from apdocs.register.findings import reopen
    from apdocs.reports.registered_run import officer_name, utc_now

    try:
        with write_transaction(open_engine(db)) as conn:
            state = reopen(conn, key.strip(), note, by or officer_name(), utc_now())
    except ApdocsError as exc:
        fail(exc)
        return
    click.echo(f"{state.key}: {state.status} ({state.code})")


@main.command("history")
@click.option("--pupil", help="A pupil reference (never a name).")
@click.option("--provider", help="A provider's name.")
@click.option("--school", help="A school's name.")
@click.option("--json", "as_json", is_flag=True)
@db_option
@profile_option  # taken for uniformity: the register is the same whatever the profile
def history_cmd(
    pupil: str | None, provider: str | None, school: str | None, as_json: bool, db: str | None, profile: Profile
) -> None:
    """The timeline of returns, findings and decisions for one pupil, provider or school."""
    from apdocs.register.db import open_engine, read_transaction
    from apdocs.register.history import timeline

    if sum(x is not None for x in (pupil, provider, school)) != 1:
        raise click.UsageError("give exactly one of --pupil, --provider, --school")
    try:
        with read_transaction(open_engine(db)) as conn:
            entries = timeline(conn, pupil=pupil, provider=provider, school=school)
    except ApdocsError as exc:
        fail(exc)
        return
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    for e in entries:
        key = f" [{e.key}]" if e.key else ""
        click.echo(f"{e.on.isoformat()}  {e.kind:<8}  {e.text}{key}")
    if not entries:
        click.echo("nothing in the register")


@main.group("register")
def register_group() -> None:
    """Look after the register itself."""


@register_group.command("purge")
@click.option("--before", required=True, metavar="YYYY-MM-DD", callback=_date, help="Delete what is older than this date.")
@click.option("--json", "as_json", is_flag=True)
@db_option
@profile_option  # taken for uniformity: the register is the same whatever the profile
def purge_cmd(before: dt.date, as_json: bool, db: str | None, profile: Profile) -> None:
    """Delete returns received, and findings last raised, before --before (with their decisions)."""
    from apdocs.register.db import open_engine, write_transaction
    from apdocs.register.retention import purge

    try:
        with write_transaction(open_engine(db)) as conn:
            counts = purge(conn, before)
    except ApdocsError as exc:
        fail(exc)
        return
    if as_json:
        emit_json({"before": before.isoformat(), "deleted": counts})
    else:
        click.echo(f"deleted before {before.isoformat()}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
