"""`apdocs pack`, `apdocs send`, `apdocs ingest`: the mail loop out to schools and back.

Secrets never come from argv (visible to every user in ``ps``): the SMTP password from
``APDOCS_SMTP_PASSWORD`` or a prompt, the IMAP password or OAuth2 token from an
environment variable named on the command line.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from apdocs.cli import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    db_option,
    emit_json,
    fail,
    jobs_option,
    main,
    profile_option,
    refuse_output_over_input,
)
from apdocs.cli.progress import Progress, wanted
from apdocs.errors import ApdocsError
from apdocs.profile import Profile

SMTP_PASSWORD_ENV = "APDOCS_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a secret
IMAP_PASSWORD_ENV = "APDOCS_IMAP_PASSWORD"  # noqa: S105 - the variable's name, not a secret


# -- pack ---------------------------------------------------------------------------


@main.command("pack")
@click.option("--roster", "roster_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o", "--outbox", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the packs and emails."
)
@click.option("--xlsx", is_flag=True, help="Also attach each form as an Excel workbook.")
@click.option("--from", "sender", default=None, envvar="APDOCS_MAIL_FROM", help="From address (default: the profile's sender).")
@click.option("--reply-to", default=None, help="Reply-To address (default: the From address).")
@click.option("--templates", "template_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None)
@click.option("--reply-by", default=None, help="Date to ask for returns by, as it should read in the email.")
@click.option(
    "--letter-context",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="YAML values for the letter.",
)
@click.option("--json", "as_json", is_flag=True)
@profile_option
def pack_cmd(
    roster_path: Path,
    outbox: Path,
    xlsx: bool,
    sender: str | None,
    reply_to: str | None,
    template_dir: Path | None,
    reply_by: str | None,
    letter_context: Path | None,
    as_json: bool,
    profile: Profile,
) -> None:
    """Write each commissioning school's pack and one .eml per school into OUTBOX."""
    from apdocs.mail.pack import covering_letters, plan, write_pack
    from apdocs.reports.letters import dated_context, load_letter_context
    from apdocs.roster import load_roster

    try:
        if reply_by is None:  # the email asks for the same deadline as the covering letter
            reply_by = dated_context(load_letter_context(letter_context, profile=profile), dt.date.today())["return_deadline"]
        roster = load_roster(roster_path)
        total = len(plan(roster))
        with Progress(total=total, unit="school", label="pack", show=wanted(as_json=as_json)) as bar:
            result = write_pack(
                roster,
                outbox,
                xlsx=xlsx,
                sender=sender,
                reply_to=reply_to,
                template_dir=template_dir,
                reply_by=reply_by,
                letters=covering_letters(letter_context, profile=profile),
                on_school=lambda _pack: bar.update(1),
                profile=profile,
            )
    except ApdocsError as exc:
        fail(exc)
        return
    if as_json:
        emit_json(result.to_dict())
    else:
        d = result.to_dict()
        click.echo(f"{d['schools']} school(s), {d['files']} file(s), {d['emails']} email(s) in {outbox}")
        click.echo(f"manifest: {outbox / 'manifest.csv'}")
    sys.exit(EXIT_OK)


# -- send ---------------------------------------------------------------------------


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, e.g. smtp.example.org:587")
    return host.strip("[]"), int(port)


@main.command("send")
@click.argument("outbox", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--smtp", "smtp_addr", required=True, help="SMTP server as HOST:PORT.")
@click.option("--starttls", is_flag=True, help="Upgrade the connection with STARTTLS (certificate verified).")
@click.option("--user", default=None, help=f"SMTP login; the password comes from ${SMTP_PASSWORD_ENV} or a prompt.")
@click.option("--yes", is_flag=True, help="Really send. Without it this is a dry run that connects to nothing.")
@click.option(
    "--rate", "per_minute", type=click.FloatRange(min=0), default=20, show_default=True, help="Messages per minute (0: no limit)."
)
@click.option("--resend-uncertain", is_flag=True, help="Also resend messages whose earlier attempt has no known outcome.")
@click.option(
    "--cafile", type=click.Path(dir_okay=False, exists=True), default=None, help="CA bundle for a private SMTP certificate."
)
@click.option("--json", "as_json", is_flag=True)
@profile_option  # taken for uniformity: the outbox already holds finished messages
def send_cmd(
    outbox: Path,
    smtp_addr: str,
    starttls: bool,
    user: str | None,
    yes: bool,
    per_minute: float,
    resend_uncertain: bool,
    cafile: str | None,
    as_json: bool,
    profile: Profile,
) -> None:
    """Send OUTBOX's emails, each at most once (see send-log.jsonl in OUTBOX)."""
    from apdocs.mail.errors import SendError
    from apdocs.mail.send import SmtpConfig, send_outbox

    host, port = _host_port(smtp_addr)
    password = None
    if yes and user:
        password = os.environ.get(SMTP_PASSWORD_ENV)
        if password is None:
            password = click.prompt(f"SMTP password for {user}", hide_input=True, err=True)
    config = SmtpConfig(host, port, starttls=starttls, user=user, password=password, cafile=cafile)
    code = EXIT_OK
    show = yes and wanted(as_json=as_json)
    bar = Progress(total=_to_send(outbox, resend_uncertain) if show else None, unit="email", label="send", show=show)

    def sent(m: Any, what: str) -> None:
        bar.update()
        if not as_json:
            bar.echo(f"{what}: {m.file.name} -> {', '.join(m.recipients)}")

    try:
        with bar:
            report = send_outbox(
                outbox, config, yes=yes, per_minute=per_minute, resend_uncertain=resend_uncertain, on_progress=sent
            )
    except SendError as exc:
        report = exc.context.pop("report", None)
        if report is None:  # refused before any message was tried (lock held, password would go unencrypted)
            fail(exc)
            return
        click.echo(f"error: {exc}", err=True)
        code = EXIT_SOME_FAILED
    except ApdocsError as exc:
        fail(exc)
        return
    if report.failed or report.uncertain:
        code = EXIT_SOME_FAILED
    if as_json:
        emit_json(report.to_dict())
    else:
        if report.dry_run:
            click.echo(f"dry run: would send {len(report.not_attempted)} message(s); add --yes to send")
            for name in report.not_attempted:
                click.echo(f"  would send: {name}")
        else:
            click.echo(f"sent {len(report.sent)}, failed {len(report.failed)}, not attempted {len(report.not_attempted)}")
        click.echo(f"already sent (skipped): {len(report.already_sent)}")
        for name in report.uncertain:
            click.echo(f"  uncertain (the server may have it; check with the school, then --resend-uncertain): {name}", err=True)
        for name, err in report.failed:
            click.echo(f"  failed: {name}: {err}", err=True)
    sys.exit(code)


def _to_send(outbox: Path, resend_uncertain: bool) -> int | None:
    """Messages this run will try (for the bar's ETA); None if the outbox cannot be planned yet."""
    from apdocs.mail.send import plan

    try:
        return sum(state not in ("sent", "uncertain") or (state == "uncertain" and resend_uncertain) for _, state in plan(outbox))
    except (ApdocsError, OSError):
        return None


# -- ingest -------------------------------------------------------------------------


@main.command("ingest")
@click.argument("sources", nargs=-1, required=True)
@click.option("--archive", "archive_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--roster", "roster_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--tracker", "tracker_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Date the date rules use (default today)."
)
@click.option(
    "--imap-password-env", default=IMAP_PASSWORD_ENV, show_default=True, help="Environment variable holding the IMAP password."
)
@click.option("--oauth2-token-env", default=None, help="Environment variable holding an OAuth2 bearer token (XOAUTH2).")
@click.option(
    "--imap-cafile", type=click.Path(dir_okay=False, exists=True), default=None, help="CA bundle for a private IMAP certificate."
)
@click.option(
    "--imap-full",
    is_flag=True,
    help="Fetch every message of each IMAP mailbox again, not only those after the last run's (duplicates are still skipped).",
)
@click.option(
    "--watch", type=click.FloatRange(min=5), default=None, metavar="SECONDS", help="Keep going: look again every SECONDS."
)
@click.option("--json", "as_json", is_flag=True)
@jobs_option
@db_option
@profile_option
def ingest_cmd(
    sources: tuple[str, ...],
    archive_dir: Path,
    roster_path: Path | None,
    tracker_path: Path | None,
    as_of: dt.datetime | None,
    imap_password_env: str,
    oauth2_token_env: str | None,
    imap_cafile: str | None,
    imap_full: bool,
    watch: float | None,
    as_json: bool,
    jobs: int | None,
    db: str | None,
    profile: Profile,
) -> None:
    """Archive replies from SOURCES (folders, .eml/.msg/.mbox, imaps://USER@HOST:PORT/MAILBOX), then update the tracker.

    imaps:// is IMAP over TLS (port 993); imap:// (port 143) is always upgraded with STARTTLS before logging in.
    """
    from apdocs.mail.imap import ImapAuth
    from apdocs.mail.ingest import SourceOptions
    from apdocs.mail.sources import is_imap_url

    if tracker_path and not roster_path:
        raise click.UsageError("--tracker needs --roster")
    refuse_output_over_input([tracker_path], [p for p in (roster_path, *map(Path, sources)) if p is not None])
    auth = None
    if any(is_imap_url(s) for s in sources):
        if oauth2_token_env:
            token = os.environ.get(oauth2_token_env)
            if not token:
                raise click.UsageError(f"environment variable {oauth2_token_env} is empty or not set")
            auth = ImapAuth(token=token)
        else:
            password = os.environ.get(imap_password_env)
            if password is None:
                password = click.prompt("IMAP password", hide_input=True, err=True)
            auth = ImapAuth(password=password)
    options = SourceOptions(imap_auth=auth, imap_cafile=imap_cafile, imap_full=imap_full)
    while True:
        code = _ingest_once(sources, archive_dir, roster_path, tracker_path, as_of, options, as_json, jobs, db, profile)
        if watch is None:
            sys.exit(code)
        try:
            # Said before waiting, so a Ctrl-C after this line always lands between passes.
            click.echo(f"waiting {watch:g}s before looking again; Ctrl-C to stop", err=True)
            time.sleep(watch)
        except KeyboardInterrupt:
            # The usual way a watch ends: the last pass finished, so its exit code stands.
            click.echo("stopped watching", err=True)
            sys.exit(code)


def _ingest_once(
    sources: tuple[str, ...],
    archive_dir: Path,
    roster_path: Path | None,
    tracker_path: Path | None,
    as_of: dt.datetime | None,
    options: Any,
    as_json: bool,
    jobs: int | None = None,
    db: str | None = None,
    profile: Profile | None = None,
) -> int:
    from apdocs.mail.archive import Archive
    from apdocs.mail.ingest import ingest
    from apdocs.mail.returns import write_tracker_from_archive
    from apdocs.reports.registered_run import describe_run
    from apdocs.roster import load_roster

    try:
        roster = load_roster(roster_path) if roster_path else None
        with Archive(archive_dir).locked() as archive:
            report = ingest(sources, archive, options)
            out: dict[str, Any] = {"ingest": report.to_dict()}
            failed_parses = 0
            if roster is not None and tracker_path is not None:
                when = as_of.date() if as_of else dt.date.today()
                show = wanted(as_json=as_json)
                total = len(archive.files()) if show else None  # counted only for the bar's ETA
                with Progress(total=total, unit="file", label="read returns", show=show) as bar:
                    run = write_tracker_from_archive(
                        archive,
                        roster,
                        tracker_path,
                        as_of=when,
                        db=db,
                        jobs=jobs,
                        on_file=lambda _r: bar.update(),
                        profile=profile,
                    )
                result = run.result
                failed_parses = len(result.failures)
                out["tracker"] = {
                    "path": str(tracker_path),
                    "returns_read": result.returns_read,
                    "unreadable": [{"file": f.source.path, **f.error.to_dict()} for f in result.failures],
                    "findings": result.counts,
                    "register": describe_run(run),
                }
            out["skipped"] = _skipped(archive)
    except ApdocsError as exc:
        fail(exc)
        return 3
    if as_json:
        emit_json(out)
    else:
        r = report
        click.echo(f"messages: {r.messages_seen} seen, {r.messages_new} new, {r.messages_known} already archived")
        click.echo(f"forms in new messages: {r.forms_new}; other attachments listed and skipped: {r.skipped_new}")
        for m in r.mailboxes:
            how = "only messages after the last run's" if m.scan == "incremental" else f"full scan: {m.reason}"
            click.echo(f"mailbox {m.source}: {m.fetched} fetched ({how})")
        for w in r.warnings:
            click.echo(f"  warning: {w.where}: {w.message} [{w.code}]", err=True)
        for e in r.errors:
            click.echo(f"  problem: {e}", err=True)
        if "tracker" in out:
            t = out["tracker"]
            click.echo(f"tracker: {t['path']} ({len(t['unreadable'])} unreadable return(s) listed)")
            click.echo(t["register"])
            for u in t["unreadable"]:
                click.echo(f"  unreadable: {u['file']}: {u['code']}", err=True)
    return EXIT_SOME_FAILED if report.errors or failed_parses else EXIT_OK


def _skipped(archive: Any) -> list[dict[str, Any]]:
    """Every non-form part listed in the archive, with the message it came in."""
    rows = []
    for meta in archive.messages():
        for s in meta.get("skipped", []):
            rows.append({"message": meta["sha256"], "date": meta.get("date"), **s})
    return rows
