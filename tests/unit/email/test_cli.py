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
