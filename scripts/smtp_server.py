#!/usr/bin/python3
"""A real SMTP server for the tests and local runs (aiosmtpd, from Debian's python3-aiosmtpd).

    scripts/smtp_server.py --port 0 --dir DIR --user USER --password PASSWORD

It insists on what notifications' mailer must do: STARTTLS before anything else, then AUTH
(PLAIN or LOGIN) with the given user and password. Its certificate is self-signed for
127.0.0.1 and localhost, made with the openssl CLI in DIR (cert.pem, key.pem; kept when they
are already there, so a restart on the same DIR keeps the same trust). Every message it
accepts is appended to DIR/mail.jsonl as one JSON line: the envelope (mail_from, rcpt_tos),
the raw data as text, and what Python's own e-mail parser reads from it (subject and body
decoded), so the tests check the mailer against an independent parser.

The chosen port is the first line on stdout. SIGTERM (or, with --exit-on-stdin-eof, the
parent closing our stdin) stops it cleanly. Recipients whose local part is "reject" get a
permanent 550 and those whose local part is "defer" a transient 451, for tests of both.

Run it with Debian's /usr/bin/python3: that is where python3-aiosmtpd is installed.
"""
import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import ssl
import subprocess
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd 1.4 itself sets the deprecated Session.login_data on every AUTH and logs a warning.
logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())


def ensure_certificate(directory: str) -> tuple[str, str]:
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return cert, key


def parsed(data: bytes) -> dict:
    message = email.message_from_bytes(data, policy=email.policy.default)
    body_part = message.get_body(preferencelist=("plain",))
    body = body_part.get_content() if body_part is not None else ""
    return {
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "message_id": str(message.get("Message-ID", "")),
        "date": str(message.get("Date", "")),
        "content_type": str(message.get("Content-Type", "")),
        "transfer_encoding": str(message.get("Content-Transfer-Encoding", "")),
        "body": body.replace("\r\n", "\n"),
        "defects": [type(d).__name__ for d in message.defects],
    }


class Handler:
    def __init__(self, log_path: str) -> None:
        self.log_path = log_path

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's naming)
        local = address.split("@", 1)[0].lower()
        if local == "reject":
            return "550 5.1.1 Mailbox unavailable"
        if local == "defer":
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        data: bytes = envelope.original_content or envelope.content
        auth = getattr(session, "auth_data", None)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": data.decode("utf-8", errors="replace"),
            "tls": session.ssl is not None,
            "auth_user": auth.login.decode() if isinstance(auth, LoginPassword) else None,
            "parsed": parsed(data),
        }
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        return "250 2.0.0 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=2525, help="0 chooses a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes (the test process that started us died)")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    cert, key = ensure_certificate(args.dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Handler(os.path.join(args.dir, "mail.jsonl"))
    user, password = args.user.encode(), args.password.encode()

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (mechanism in ("PLAIN", "LOGIN") and isinstance(auth_data, LoginPassword)
              and auth_data.login == user and auth_data.password == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="localhost", tls_context=context, require_starttls=True,
                     auth_required=True, auth_require_tls=True, authenticator=authenticator,
                     loop=loop),
        host=args.host, port=args.port))
    print(server.sockets[0].getsockname()[1], flush=True)

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # A child inherits its parent thread's blocked signals, and a test runner's threads may
    # block SIGTERM: unblocked, or stop() would have to wait for SIGKILL.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.exit_on_stdin_eof:
        def on_stdin() -> None:
            if not os.read(sys.stdin.fileno(), 4096):
                loop.remove_reader(sys.stdin.fileno())
                stop.set()
        loop.add_reader(sys.stdin.fileno(), on_stdin)

    loop.run_until_complete(stop.wait())
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


if __name__ == "__main__":
    main()
