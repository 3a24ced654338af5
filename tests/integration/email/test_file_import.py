"""``helpdesk email ingest FILE...``: .eml files, mbox and Maildir, through the real broker."""

from __future__ import annotations

import mailbox
from pathlib import Path

from services.email_ingest.entrypoints.main import ingest_files
from tests.integration.email.conftest import EmailStack
from tests.unit.email.fakes import mail


async def test_eml_mbox_and_maildir_import(stack: EmailStack, tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail(message_id="<file-1@example.com>", subject="from a file"))
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(mail(message_id="<mbox-1@example.com>"))
    box.add(mail(message_id="<mbox-2@example.com>", headers={"Precedence": "bulk"}))
    box.flush()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(mail(message_id="<maildir-1@example.com>"))
    lines: list[str] = []
    failed = await ingest_files(
        stack.settings,
        [eml, tmp_path / "box.mbox", tmp_path / "Maildir", eml],
        echo=lines.append,
    )
    assert failed == 0
    outcomes = sorted(line.rsplit(": ", 1)[1] for line in lines)
    assert outcomes == [
        "create_ticket",
        "create_ticket",
        "create_ticket",
        "dropped (precedence:bulk)",
        "duplicate (message_id_seen)",
    ]
    for mid in ("<file-1@example.com>", "<mbox-1@example.com>", "<maildir-1@example.com>"):
        await stack.indexed(mid)
    assert len(stack.tickets()) == 3
