"""Notifications rendered with Jinja2: a text and an HTML part per kind.

Templates are ``<kind>.txt.j2`` and ``<kind>.html.j2`` (kinds: ``acknowledgement``,
``public_comment``, ``solved``, ``follow_up``), shipped in
``services/outbound_mail/templates``. A file of the same name in
``HELPDESK_MAIL_TEMPLATES_DIR`` replaces the shipped one (the rest keep theirs). Variables:
``number``, ``subject``, ``kind``, and ``body`` (public comments), ``original_number``
(follow-ups). The HTML part is autoescaped; the text part is not.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path

import jinja2

from services.outbound_mail.domain.notifications import Notification


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
        )

    def parts(self, notification: Notification) -> tuple[str, str]:
        context = dict(notification.context)
        kind = notification.kind.value
        text = self.env.get_template(f"{kind}.txt.j2").render(context)
        html = self.env.get_template(f"{kind}.html.j2").render(context)
        return text, html

    def render(self, notification: Notification, sender: str) -> bytes:
        text, html = self.parts(notification)
        message = EmailMessage()
        message["From"] = sender
        message["To"] = notification.recipient
        message["Subject"] = notification.subject
        message["Date"] = formatdate(localtime=False)
        for name, value in notification.headers.items():
            message[name] = value
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message.as_bytes(policy=SMTP)
