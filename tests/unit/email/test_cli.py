"""``helpdesk email quarantine list`` reads the quarantine under the data dir."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.settings import get_settings


def test_quarantine_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        raw = b"From: Eve <eve@example.com>\r\nSubject: huge\r\n\r\n" + b"x" * 100
        qid = FileQuarantine(tmp_path / "quarantine").put(raw, "too_large", "150 bytes > 100")
        result = CliRunner().invoke(app, ["email", "quarantine", "list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert qid in result.output
    assert "too_large: 150 bytes > 100" in result.output
    assert "Eve <eve@example.com> | huge" in result.output
    assert "1 message(s) in quarantine" in result.output


def test_suspended_list_show_reject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.email_ingest.adapters.suspended_files import FileSuspendedQueue

    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        raw = b"From: ann@example.com\r\nSubject: Re: [#7] x\r\nMessage-ID: <m@x>\r\n\r\nhi"
        sid = FileSuspendedQueue(tmp_path / "suspended").put(
            raw,
            "unauthenticated",
            "dmarc=fail",
            message_id="<m@x>",
            ticket_number=7,
            mail_from=None,
            recipients=("support@helpdesk.localhost",),
        )
        listed = runner.invoke(app, ["email", "suspended", "list"])
        shown = runner.invoke(app, ["email", "suspended", "show", sid])
        as_raw = runner.invoke(app, ["email", "suspended", "show", sid, "--raw"])
        rejected = runner.invoke(app, ["email", "suspended", "reject", sid, "--by", "root"])
        again = runner.invoke(app, ["email", "suspended", "show", sid])
        unknown = runner.invoke(app, ["email", "suspended", "reject", "0" * 32])
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 0, listed.output
    assert f"{sid}" in listed.output and "#7" in listed.output
    assert "unauthenticated: dmarc=fail" in listed.output
    assert "1 message(s) suspended" in listed.output
    assert "message_id: <m@x>" in shown.output and "ticket: 7" in shown.output
    assert as_raw.stdout_bytes == raw
    assert rejected.exit_code == 0 and f"{sid}: rejected" in rejected.output
    assert again.exit_code == 1 and "rejected by root" in again.output
    assert unknown.exit_code == 1
    assert not list((tmp_path / "suspended").glob("*.eml"))
