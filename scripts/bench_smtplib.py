#!/usr/bin/env python3
"""The baseline of the SMTP benchmark (examples/bench.rs, section `smtp`): sends pre-built
messages (the .eml files kkr writes in a workspace without [mail.smtp]) with Python's
smtplib to a local server, over one connection, or with `--per-message` over one
connection per message (connect, EHLO, MAIL, RCPT, DATA, QUIT), as kkr did before it kept
its connection for a pass.

The envelope is taken from each message's From and To headers; the EHLO name is the
sender's domain, as kkr's is on a machine without a full host name (smtplib would otherwise
look this machine's name up on every connection). Prints one line:
`sent N messages over C connections in S s` (the time from the first connect to the last
QUIT; reading the files comes before it)."""

import argparse
import email.parser
import email.policy
import email.utils
import pathlib
import smtplib
import sys
import time


def envelope(raw: bytes) -> tuple[str, list[str]]:
    """The sender and recipients of a message, from its headers."""
    # Only the header block: the parser would split the whole ~1 MB body into lines too.
    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
    sender = email.utils.parseaddr(headers["From"])[1]
    to = [a for _, a in email.utils.getaddresses(headers.get_all("To", []))]
    return sender, to


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--per-message", action="store_true", help="one connection per message")
    p.add_argument("files", nargs="+", type=pathlib.Path, help=".eml files, or folders of them")
    args = p.parse_args()

    paths = []
    for f in args.files:
        paths += sorted(f.glob("*.eml")) if f.is_dir() else [f]
    messages = []
    for path in paths:
        raw = path.read_bytes()
        sender, to = envelope(raw)
        messages.append((sender, to, raw))
    if not messages:
        print("no .eml files given", file=sys.stderr)
        return 2

    hello = messages[0][0].rpartition("@")[2]
    start = time.perf_counter()
    connections = 0
    if args.per_message:
        for sender, to, raw in messages:
            with smtplib.SMTP(args.host, args.port, local_hostname=hello) as smtp:
                connections += 1
                smtp.sendmail(sender, to, raw)
    else:
        with smtplib.SMTP(args.host, args.port, local_hostname=hello) as smtp:
            connections += 1
            for sender, to, raw in messages:
                smtp.sendmail(sender, to, raw)
    took = time.perf_counter() - start
    print(f"sent {len(messages)} messages over {connections} connections in {took:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
