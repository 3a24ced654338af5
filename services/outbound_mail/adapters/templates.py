"""Notifications rendered with Jinja2: a text and an HTML part per kind.

Templates are ``<kind>.txt.j2`` and ``<kind>.html.j2`` (kinds: ``acknowledgement``,
``public_comment``, ``solved``, ``follow_up``), shipped in
``services/outbound_mail/templates``. A file of the same name in
``HELPDESK_MAIL_TEMPLATES_DIR`` replaces the shipped one (the rest keep theirs). Variables:
``number``, ``subject``, ``kind``, and ``body`` (public comments), ``original_number`` and
``by_requester`` (follow-ups: whether the requester's own reply made it). The HTML part is
autoescaped; the text part is not.
"""

from __future__ import annotations

import binascii
import uuid
from email.header import Header
from email.utils import formatdate
from pathlib import Path

import jinja2

from services.outbound_mail.domain.notifications import Notification

LINE = 78
"""Headers longer than this are folded (RFC 5322 recommends 78; 998 is the hard limit)."""


def header_line(name: str, value: str) -> str:
    """``Name: value`` on one logical line (no header injection from a subject), RFC 2047
    encoded when not ASCII, folded when long."""
    value = " ".join(value.splitlines())
    if value.isascii() and len(name) + len(value) + 2 <= LINE:
        return f"{name}: {value}"
    encoded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name)
    return f"{name}: {encoded.encode(linesep=chr(13) + chr(10), maxlinelen=LINE)}"


def quoted_printable(text: str) -> str:
    """UTF-8, quoted-printable, CRLF line ends: readable raw, safe for 7-bit relays."""
    body = "\n".join(text.splitlines()).encode()
    return binascii.b2a_qp(body).decode("ascii").replace("\n", "\r\n")


def mime_alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """multipart/alternative (text, then HTML). Written out directly: the email package's
    header objects and generator cost more than the rest of a send together
    (bench/bench_outbound_mail.py); tests parse the result with the email package."""
    boundary = f"=_{uuid.uuid4().hex}"
    lines = [header_line(name, value) for name, value in headers]
    lines += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        quoted_printable(text),
        f"--{boundary}",
        'Content-Type: text/html; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        quoted_printable(html),
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def _autoescape(name: str | None) -> bool:
    return bool(name) and str(name).endswith(".html.j2")


class JinjaRenderer:
    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override_dir is not None:
            loaders.append(jinja2.FileSystemLoader(str(override_dir)))
        loaders.append(jinja2.PackageLoader("services.outbound_mail", "templates"))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=_autoescape,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
        )

    def parts(self, notification: Notification) -> tuple[str, str]:
        context = dict(notification.context)
        kind = notification.kind.value
        text = self.env.get_template(f"{kind}.txt.j2").render(context)
        html = self.env.get_template(f"{kind}.html.j2").render(context)
        return text, html

    def render(self, notification: Notification, sender: str) -> bytes:
        text, html = self.parts(notification)
        headers = [
            ("From", sender),
            ("To", notification.recipient),
            ("Subject", notification.subject),
            ("Date", formatdate(localtime=False)),
            *notification.headers.items(),
        ]
        return mime_alternative(headers, text, html)
