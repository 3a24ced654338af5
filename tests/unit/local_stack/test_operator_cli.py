"""``helpdesk`` as an operator meets it: a missing or unreachable service is one line on
standard error naming the setting to fix (exit status 2), never a traceback; the local
stack's ``stack.json`` fills the addresses nobody exported; a reader never creates an empty
store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.local_stack.processes import free_port


def helpdesk(data_dir: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *argv],
        env={**clean, "HELPDESK_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("helpdesk: error: ")
    return lines[0]


@pytest.fixture
def unreachable() -> Iterator[dict[str, str]]:
    """Addresses where nothing listens (held bound, not listening, for the test)."""
    held = []
    for _ in range(2):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        held.append(sock)
    kafka, redis = (s.getsockname()[1] for s in held)
    yield {
        "HELPDESK_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka}",
        "HELPDESK_REDIS_URL": f"redis://127.0.0.1:{redis}/0",
    }
    for sock in held:
        sock.close()


def test_a_missing_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    line = one_line_error(helpdesk(tmp_path, "closer", "status"))
    assert "HELPDESK_KAFKA_BOOTSTRAP" in line and "HELPDESK_REDIS_URL" in line
    line = one_line_error(helpdesk(tmp_path, "events", "tail", "--no-follow"))
    assert "HELPDESK_KAFKA_BOOTSTRAP" in line


def test_an_unreachable_service_is_one_line_naming_its_setting(
    tmp_path: Path, unreachable: dict[str, str]
) -> None:
    line = one_line_error(helpdesk(tmp_path, "closer", "status", **unreachable))
    assert f"HELPDESK_REDIS_URL={unreachable['HELPDESK_REDIS_URL']}" in line
    line = one_line_error(
        helpdesk(tmp_path, "events", "tail", "--from-beginning", "--no-follow", **unreachable)
    )
    assert f"HELPDESK_KAFKA_BOOTSTRAP={unreachable['HELPDESK_KAFKA_BOOTSTRAP']}" in line


def test_the_stack_file_fills_what_is_not_exported_and_an_exported_setting_wins(
    tmp_path: Path, unreachable: dict[str, str]
) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"env": unreachable}))
    line = one_line_error(helpdesk(tmp_path, "closer", "status"))
    assert unreachable["HELPDESK_REDIS_URL"] in line  # found in stack.json
    exported = f"redis://127.0.0.1:{free_port()}/0"
    line = one_line_error(helpdesk(tmp_path, "closer", "status", HELPDESK_REDIS_URL=exported))
    assert exported in line
    env = helpdesk(tmp_path, "stack", "env")
    assert env.returncode == 0, env.stderr
    for name, value in unreachable.items():
        assert f"export {name}={value}" in env.stdout.splitlines()


def test_stack_env_without_a_stack_says_so(tmp_path: Path) -> None:
    line = one_line_error(helpdesk(tmp_path, "stack", "env"))
    assert "make run" in line and str(tmp_path) in line


@pytest.mark.parametrize(
    "argv",
    [("sla", "audit"), ("dead-letters", "list")],
    ids=["sla-audit", "dead-letters-list"],
)
def test_a_reader_on_a_data_directory_without_a_store_says_so_and_creates_none(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    data_dir = tmp_path / "var"
    line = one_line_error(helpdesk(data_dir, *argv))
    assert "no ticket store" in line and "HELPDESK_DATA_DIR" in line
    assert not (data_dir / "helpdesk.sqlite3").exists()
