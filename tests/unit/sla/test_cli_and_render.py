"""``helpdesk sla audit`` on a store: formats, filters, determinism, errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app as cli
from services.ticket_service.sla.render import clock_text, rate, seconds
from tests.unit.sla.history import MONDAY, History, new_app


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sla-cli")
    h = History(new_app(path))
    a = h.create(MONDAY, priority="urgent")
    h.reply(a, MONDAY + timedelta(hours=2))
    h.status(a, "solved", MONDAY + timedelta(hours=3))
    b = h.create(MONDAY + timedelta(days=1), priority="low")
    h.reply(b, MONDAY + timedelta(days=1, hours=1))
    c = h.create(MONDAY + timedelta(days=2), priority="urgent", status="open")
    h.status(c, "pending", MONDAY + timedelta(days=2, minutes=5))
    return path


def audit(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["sla", "audit", *args],
        env={"HELPDESK_DATA_DIR": str(data_dir), "HELPDESK_DATABASE_URL": ""},
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_rows_and_totals(data_dir: Path) -> None:
    text = audit(data_dir, "--format", "csv")
    rows_part, totals_part = text.split("\n\n")
    rows = list(csv.DictReader(io.StringIO(rows_part)))
    assert [r["number"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["first_reply_s"] == "7200.000" and rows[0]["first_reply_breached"] == "true"
    assert rows[0]["resolution_s"] == "10800.000" and rows[0]["resolution_running"] == "false"
    # Ticket 3: no reply yet, still running at the last event (5 minutes after creation).
    assert rows[2]["first_reply_s"] == "300.000" and rows[2]["first_reply_running"] == "true"
    totals = dict(csv.reader(io.StringIO(totals_part)))
    assert totals["tickets"] == "3"
    assert totals["first_reply_breached"] == "1"
    assert totals["first_reply_breach_rate"] == "33.33%"
    assert totals["as_of"] == "2026-01-07T09:05:00Z"


def test_jsonl_is_one_object_per_line(data_dir: Path) -> None:
    lines = [json.loads(line) for line in audit(data_dir, "--format", "jsonl").splitlines()]
    assert [line["type"] for line in lines] == ["ticket", "ticket", "ticket", "totals"]
    assert lines[0]["first_reply_s"] == 7200.0 and lines[0]["follow_up_of"] is None
    assert lines[-1]["resolution_measured"] == 1


def test_same_history_same_bytes(data_dir: Path) -> None:
    for fmt in ("table", "csv", "jsonl"):
        assert audit(data_dir, "--format", fmt) == audit(data_dir, "--format", fmt)


def test_table_has_no_progress_or_colour_when_not_a_terminal(data_dir: Path) -> None:
    text = audit(data_dir)
    assert "\x1b[" not in text and "events/s" not in text
    assert text.startswith("SLA audit as of 2026-01-07T09:05:00Z")
    assert "Totals over 3 tickets" in text


def test_filters(data_dir: Path) -> None:
    def numbers(*args: str) -> list[str]:
        rows = audit(data_dir, "--format", "csv", *args).split("\n\n")[0]
        return [r["number"] for r in csv.DictReader(io.StringIO(rows))]

    assert numbers("--priority", "urgent") == ["1", "3"]
    assert numbers("--priority", "low", "--priority", "urgent") == ["1", "2", "3"]
    assert numbers("--from", "2026-01-06") == ["2", "3"]
    assert numbers("--to", "2026-01-06") == ["1", "2"]
    assert numbers("--as-of", "2026-01-05T12:00:00Z") == ["1"]


def test_as_of_runs_clocks_to_that_instant(data_dir: Path) -> None:
    rows = audit(data_dir, "--format", "csv", "--as-of", "2026-01-05T10:00:00+00:00")
    row = next(csv.DictReader(io.StringIO(rows.split("\n\n")[0])))
    assert (row["first_reply_s"], row["first_reply_running"]) == ("3600.000", "true")
    assert row["first_reply_breached"] == "false"


def test_output_file_and_policy(data_dir: Path, tmp_path: Path) -> None:
    policy = tmp_path / "lenient.toml"
    policy.write_text('[targets.urgent]\nfirst_reply = "3h"\n')
    out = tmp_path / "report.csv"
    audit(data_dir, "--format", "csv", "--policy", str(policy), "-o", str(out))
    row = next(csv.DictReader(io.StringIO(out.read_text().split("\n\n")[0])))
    assert row["first_reply_breached"] == "false"
    assert "lenient: " in out.read_text()


def test_bad_policy_is_a_usage_error(data_dir: Path, tmp_path: Path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text('[targets.urgent]\nfirst_reply = "soon"\n')
    result = CliRunner().invoke(
        cli,
        ["sla", "audit", "--policy", str(policy)],
        env={"HELPDESK_DATA_DIR": str(data_dir), "HELPDESK_DATABASE_URL": ""},
    )
    assert result.exit_code == 2
    assert "cannot read duration" in result.output


def test_formatting_helpers() -> None:
    assert seconds(None) == "" and seconds(1_234_567) == "1.234" and seconds(0) == "0.000"
    assert clock_text(None) == "-" and clock_text(90_061 * 10**6) == "1d 01:01:01"
    assert rate(1, 3) == "33.33%" and rate(2, 3) == "66.67%" and rate(0, 0) == "0.00%"
