"""The local stack's stable ports (with a fallback said aloud) and its one-per-data-dir
lock."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from services.local_stack.processes import free_port, port_is_free, preferred_port
from services.local_stack.stack_lock import LOCK_FILE, StackAlreadyRunning, stack_lock


def test_a_free_preferred_port_is_kept_silently() -> None:
    said: list[str] = []
    port = free_port()
    assert preferred_port(port, "embedded Redis", said.append) == port
    assert said == []


def test_a_taken_preferred_port_falls_back_to_a_free_one_and_says_so() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        said: list[str] = []
        chosen = preferred_port(taken, "embedded Kafka broker", said.append)
        assert chosen != taken and port_is_free(chosen)
        assert len(said) == 1 and str(taken) in said[0] and str(chosen) in said[0]
        assert "embedded Kafka broker" in said[0]


def test_port_zero_means_any_free_port() -> None:
    said: list[str] = []
    assert port_is_free(preferred_port(0, "x", said.append))
    assert said == []


def test_a_second_stack_on_the_same_data_directory_is_refused_with_the_pid(
    tmp_path: Path,
) -> None:
    import os

    with stack_lock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(StackAlreadyRunning) as refused, stack_lock(tmp_path):
            pass
        assert str(os.getpid()) in str(refused.value)
        assert "HELPDESK_DATA_DIR" in str(refused.value)
    with stack_lock(tmp_path):  # released: the next run goes ahead
        pass


def test_a_taken_http_port_stops_the_stack_before_it_starts_anything(tmp_path: Path) -> None:
    from services.local_stack.stack import run_stack
    from services.operator_errors import OperatorError
    from services.settings import Settings

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        with pytest.raises(OperatorError) as refused:
            run_stack(Settings(data_dir=tmp_path, http_port=taken, smtp_port=free_port()))
    assert f"port {taken} (HELPDESK_HTTP_PORT)" in str(refused.value)
    assert not (tmp_path / "stack.json").exists()


def test_a_killed_runs_stack_file_is_marked_stopped_before_the_next_run_starts(
    tmp_path: Path,
) -> None:
    import json

    from services.local_stack.stack import run_stack
    from services.operator_errors import OperatorError
    from services.settings import Settings

    (tmp_path / "stack.json").write_text(json.dumps({"status": "ready", "pid": 1, "env": {}}))
    with socket.socket() as listener:  # stop the run right after the stack file is handled
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with pytest.raises(OperatorError):
            run_stack(Settings(data_dir=tmp_path, http_port=listener.getsockname()[1]))
    assert json.loads((tmp_path / "stack.json").read_text())["status"] == "stopped"
