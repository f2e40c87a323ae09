"""A real Dovecot IMAP server for tests, on 127.0.0.1 with its own config in a temp dir.

What it sets up:

* IMAPS on :attr:`Dovecot.port` and plain IMAP on :attr:`Dovecot.imap_port`, where ``ssl = required``
  makes Dovecot offer STARTTLS and refuse any login before it (LOGINDISABLED). The certificate is
  self-signed, generated here (openssl CLI); clients verify it through the CA file :attr:`Dovecot.cafile`.
* With ``tls=False`` instead: plain IMAP only, no STARTTLS, and logins in clear *accepted* - the
  careless server a client must refuse on its own.
* Dovecot's log, where each session's logout line counts the message bodies the server sent
  (``body_count``): :meth:`Dovecot.wait_sessions` reads it, so a test can check what was fetched.
* One test user in a passwd-file (plain password) with a maildir in the temp dir.
* XOAUTH2 / OAUTHBEARER through Dovecot's own ``oauth2`` passdb, which validates the bearer
  token by POSTing it to an RFC 7662 style introspection endpoint. That endpoint is a tiny
  HTTP server in this process on 127.0.0.1 that knows one token. So the SASL exchange, the
  token parsing and the username binding are done by real Dovecot; only the identity provider
  is a stand-in (no Microsoft/Google servers are involved, and nothing leaves loopback).

Runs as root (Dovecot drops to its own users and ``nobody`` for mail) or as an ordinary
user (everything runs as that user).
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs

USER = "officer"
PASSWORD = "synthetic-pass-1"  # test-only credential for a throwaway server
TOKEN = "synthetic-bearer-token-abc123"  # the one token the stand-in identity provider accepts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Introspection(BaseHTTPRequestHandler):
    """RFC 7662 token introspection: active only for :data:`TOKEN`."""

    seen: list[str]  # tokens asked about, so a test can prove Dovecot really called us

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        token = (parse_qs(body).get("token") or [""])[0]
        auth = self.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:]
        self.server.seen.append(token)  # type: ignore[attr-defined]
        reply = {"active": "true", "username": USER} if token == TOKEN else {"active": "false"}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


class Dovecot:
    def __init__(self, binary: str = "/usr/sbin/dovecot", *, tls: bool = True) -> None:
        self.binary = binary
        self.tls = tls
        self.root = Path(tempfile.mkdtemp(prefix="apdocs-dovecot-"))
        self.port = free_port()  # IMAPS (only when tls)
        self.imap_port = free_port()  # plain IMAP: STARTTLS required when tls, none at all otherwise
        self.host = "127.0.0.1"
        self.cafile = self.root / "cert.pem"
        self.introspection_calls: list[str] = []
        self._http: HTTPServer | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> Dovecot:
        """Start Dovecot; on any failure stop whatever did start (process, HTTP thread, temp dir) and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        is_root = os.geteuid() == 0
        me = pwd.getpwuid(os.geteuid()).pw_name
        if is_root:
            # Dovecot refuses to serve mail as root; the helpers must reach the temp tree.
            login_user, internal_user, mail_user = "dovenull", "dovecot", "nobody"
            os.chmod(self.root, 0o755)
        else:
            login_user = internal_user = mail_user = me
        mail = pwd.getpwnam(mail_user)
        maildir = self.root / "mail"
        maildir.mkdir()
        if is_root:
            os.chown(maildir, mail.pw_uid, mail.pw_gid)
        if self.tls:
            self._make_cert()
        self._start_introspection()
        (self.root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{mail.pw_uid}:{mail.pw_gid}::{maildir}\n")
        (self.root / "oauth2.conf.ext").write_text(
            "\n".join(
                [
                    f"introspection_url = http://127.0.0.1:{self._http.server_port}/introspect",  # type: ignore[union-attr]
                    "introspection_mode = post",
                    "force_introspection = yes",
                    "username_attribute = username",
                    "active_attribute = active",
                    "active_value = true",
                    "",
                ]
            )
        )
        conf = self.root / "dovecot.conf"
        self.conf = conf
        # The port is picked free but only bound later, so another process may take it first: retry on a new one.
        for attempt in range(3):
            if attempt:
                self.port, self.imap_port = free_port(), free_port()
            conf.write_text(self._config(login_user, internal_user, maildir))
            # Foreground (-F) so the server is our child: stopping it is a plain terminate.
            with open(self.root / "stderr.log", "wb") as err:
                self._proc = subprocess.Popen([self.binary, "-F", "-c", str(conf)], stdout=err, stderr=err)
            if self._wait_ready():
                # Each readiness probe is a connection Dovecot logs; wait for those lines so none lands
                # after a mark a test takes (they would look like a client's sessions).
                self.wait_sessions(0, 2 if self.tls else 1, what="imap-login: Info: Disconnected")
                return
            self._stop_process()
            if "in use" not in self._log():
                break
        raise RuntimeError(f"dovecot did not listen on {self.port}/{self.imap_port}{self._log()}")

    def stop(self) -> None:
        self._stop_process()
        if self._http:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        shutil.rmtree(self.root, ignore_errors=True)

    def _stop_process(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None

    # -- helpers for tests -------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in session of the test's own (IMAPS, or plain IMAP on a server without TLS).

        On leaving, waits for Dovecot to log the logout, so the session never lands in the log
        after a mark a test takes next (see :meth:`wait_sessions`).
        """
        mark = self.log_mark()
        if self.tls:
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self.ssl_context())
        else:
            imap = imaplib.IMAP4(self.host, self.imap_port)
        with imap:
            imap.login(USER, PASSWORD)
            yield imap
        self.wait_sessions(mark, 1)

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver a message with IMAP APPEND (a real client path, not a file copy)."""
        with self.client() as imap:
            if mailbox != "INBOX":
                imap.create(mailbox)
            typ, _ = imap.append(mailbox, "", imaplib.Time2Internaldate(time.time()), raw)
            assert typ == "OK"

    def recreate(self, mailbox: str) -> None:
        """DELETE and CREATE ``mailbox`` (not INBOX): the server gives it a new UIDVALIDITY."""
        with self.client() as imap:
            assert imap.delete(mailbox)[0] == "OK"
            assert imap.create(mailbox)[0] == "OK"

    def uidvalidity(self, mailbox: str = "INBOX") -> int:
        with self.client() as imap:
            typ, data = imap.status(mailbox, "(UIDVALIDITY)")
            assert typ == "OK" and data[0]
            return int(data[0].split(b"UIDVALIDITY ")[1].rstrip(b")"))

    def url(self, mailbox: str = "INBOX", *, starttls: bool = False) -> str:
        if starttls or not self.tls:
            return f"imap://{USER}@{self.host}:{self.imap_port}/{mailbox}"
        return f"imaps://{USER}@{self.host}:{self.port}/{mailbox}"

    # -- what the server saw: its log -------------------------------------------------

    def log_mark(self) -> int:
        """A position in Dovecot's log; :meth:`wait_sessions` reads what comes after it."""
        log = self.root / "dovecot.log"
        return log.stat().st_size if log.exists() else 0

    def log_since(self, mark: int) -> str:
        with open(self.root / "dovecot.log", "rb") as fh:
            fh.seek(mark)
            return fh.read().decode(errors="replace")

    def wait_sessions(self, mark: int, count: int, *, what: str = "Logged out") -> list[str]:
        """The first ``count`` log lines after ``mark`` containing ``what``, waiting for Dovecot to write them.

        Logged-out lines end ``... body_count=N body_bytes=M``: N is how many message bodies that
        session fetched. The wait is a bound on a stuck server, not a timing assertion.
        """
        deadline = time.monotonic() + 20
        while True:
            lines = [line for line in self.log_since(mark).splitlines() if what in line]
            if len(lines) >= count:
                return lines[:count]
            if time.monotonic() > deadline:
                raise AssertionError(f"Dovecot logged {len(lines)} of {count} '{what}' line(s):\n{self.log_since(mark)}")
            time.sleep(0.05)

    def bodies_fetched(self, mark: int) -> int:
        """Message bodies the one session after ``mark`` fetched, by Dovecot's own count."""
        (line,) = self.wait_sessions(mark, 1)
        return int(line.split("body_count=")[1].split()[0])

    # -- internals ---------------------------------------------------------------

    def _config(self, login_user: str, internal_user: str, maildir: Path) -> str:
        r = self.root
        if self.tls:
            tls = f"ssl = required\nssl_cert = <{r}/cert.pem\nssl_key = <{r}/key.pem\ndisable_plaintext_auth = yes"
            imaps = f"inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.port}\n    ssl = yes\n  }}"
        else:
            tls, imaps = "ssl = no\ndisable_plaintext_auth = no", ""
        return f"""
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
info_log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
{tls}
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {r}/oauth2.conf.ext
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {r}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  {imaps}
}}
service anvil {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""

    def _make_cert(self) -> None:
        openssl = shutil.which("openssl")
        if not openssl:
            raise RuntimeError("openssl CLI needed to make the test certificate")
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(self.root / "key.pem"),
                "-out",
                str(self.cafile),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        os.chmod(self.root / "key.pem", 0o600)

    def _start_introspection(self) -> None:
        server = HTTPServer(("127.0.0.1", 0), _Introspection)
        server.seen = self.introspection_calls  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._http = server

    def _wait_ready(self) -> bool:
        """True once every port accepts connections; False if Dovecot exited or never listened."""
        deadline = time.monotonic() + 20
        waiting = [self.imap_port, self.port] if self.tls else [self.imap_port]
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                with socket.create_connection((self.host, waiting[0]), timeout=1):
                    waiting.pop(0)
                    if not waiting:
                        return True
                    continue
            time.sleep(0.1)
        return False

    def _log(self) -> str:
        text = ""
        for name in ("stderr.log", "dovecot.log"):
            log = self.root / name
            if log.exists():
                text += "\n" + log.read_text(errors="replace")[-4000:]
        return text
