"""The operator's view of ``make run`` (``helpdesk stack run``): one ready line once every
service serves, the CLI finding the stack with nothing exported, one stack per data
directory, dead letters surviving a restart, a graceful stop, and no service left behind
when the supervisor is killed."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from aiokafka import AIOKafkaProducer

from services.local_stack.processes import port_is_free
from services.local_stack.stack import READY_LINE
from tests.e2e.stack import Stack, eventually

OUTSIDE_SETTINGS = ("HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_REDIS_URL", "HELPDESK_DATABASE_URL")


def helpdesk(stack: Stack, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A ``helpdesk`` command as an operator types it: only the data directory is known
    (as when run from the checkout, where ./var is the default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["HELPDESK_DATA_DIR"] = str(stack.data_dir)
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def serving(stack: Stack, info: dict[str, object]) -> dict[str, bool]:
    """Whether each service serves right now, by its own endpoint."""
    health = info["health"]
    assert isinstance(health, dict)
    result = {}
    for name in ("tickets-http", "tickets-worker", "closer"):
        try:
            result[name] = httpx.get(health[name], timeout=5).status_code == 200
        except httpx.HTTPError:
            result[name] = False
    try:
        with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=5) as smtp:
            result["email"] = smtp.noop()[0] == 250
    except OSError:
        result["email"] = False
    return result


def wait_for_ready_line(stack: Stack, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert stack.process is not None and stack.process.poll() is None, stack.tail()
        if f"{READY_LINE}:" in stack.log.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"no ready line\n{stack.tail()}")


async def produce_poison(bootstrap: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("helpdesk.ticket-commands", value, key=b"poison")
    finally:
        await producer.stop()


SERVICE_LINE = re.compile(r"^\s*(tickets-http|tickets-worker|closer|email) \| (.*)$")


def assert_every_service_line_is_json(output: str) -> None:
    """Every line a service wrote (the supervisor prefixes them with its name) is one JSON
    object: no library's coloured text in between."""
    seen = 0
    for line in output.splitlines():
        match = SERVICE_LINE.match(line)
        if match is None or match.group(2).startswith("exited with"):  # the supervisor's
            continue
        seen += 1
        try:
            record = json.loads(match.group(2))
        except ValueError:
            raise AssertionError(f"not JSON: {line!r}") from None
        assert isinstance(record, dict) and "event" in record and "level" in record, line
    assert seen > 0


def dead_letters(stack: Stack) -> list[dict[str, object]]:
    with stack.http("admin") as client:
        response = client.get("/api/v1/dead-letters")
    assert response.status_code == 200, response.text
    return list(response.json()["dead_letters"])


def test_ready_cli_single_instance_dead_letters_and_graceful_stop(tmp_path: Path) -> None:
    import asyncio

    stack = Stack(tmp_path / "var")
    stack.launch()
    try:
        wait_for_ready_line(stack)
        info = stack.read_info()
        assert info is not None and info["status"] == "ready"
        # The moment the line is printed, every service already serves.
        assert serving(stack, info) == dict.fromkeys(
            ("tickets-http", "tickets-worker", "closer", "email"), True
        )
        assert info["kafka_bootstrap"] == f"127.0.0.1:{stack.kafka_port}"
        assert info["redis_url"] == f"redis://127.0.0.1:{stack.redis_port}/0"
        stack.info = info

        # The CLI finds the stack with nothing exported.
        exported = helpdesk(stack, "stack", "env")
        assert exported.returncode == 0, exported.stderr
        assert f"export HELPDESK_KAFKA_BOOTSTRAP={info['kafka_bootstrap']}" in exported.stdout
        assert f"export HELPDESK_REDIS_URL={info['redis_url']}" in exported.stdout
        status = helpdesk(stack, "closer", "status")
        assert status.returncode == 0 and "built=True" in status.stdout, status.stderr
        events = helpdesk(stack, "events", "tail", "--from-beginning", "--no-follow")
        assert events.returncode == 0, events.stderr

        # A second stack on the same data directory refuses, clearly.
        second = helpdesk(stack, "stack", "run", timeout=60)
        assert second.returncode == 2
        assert "already running" in second.stderr and str(info["pid"]) in second.stderr
        assert "Traceback" not in second.stderr + second.stdout

        # A dead letter is kept, and survives the restart of the (memory-only) broker.
        poison = b'{"command_type": "LaunchRocket"}'
        asyncio.run(produce_poison(str(info["kafka_bootstrap"]), poison))
        kept = eventually(lambda: dead_letters(stack), "the dead letter in the store", 60)
        assert [base64.b64decode(str(d["value_b64"])) for d in kept] == [poison]
        listed = helpdesk(stack, "dead-letters", "list")
        assert listed.returncode == 0 and str(kept[0]["dead_letter_id"]) in listed.stdout

        # Graceful stop: a few seconds, nothing left unclosed.
        assert stack.process is not None
        started = len(stack.log.read_text(errors="replace"))
        os.killpg(stack.process.pid, signal.SIGINT)
        stack.process.wait(40)
        stop_output = stack.log.read_text(errors="replace")[started:]
        assert "Unclosed" not in stop_output, stop_output
        assert "Traceback" not in stop_output, stop_output
        assert json.loads((stack.data_dir / "stack.json").read_text())["status"] == "stopped"
        assert_every_service_line_is_json(stack.log.read_text(errors="replace"))

        stack.start()
        assert [d["dead_letter_id"] for d in dead_letters(stack)] == [
            d["dead_letter_id"] for d in kept
        ]
        assert stack.info["kafka_bootstrap"] == f"127.0.0.1:{stack.kafka_port}", "stable port"
    except BaseException:
        print(stack.tail(200))
        raise
    finally:
        stack.stop()


def test_kill_9_of_the_supervisor_leaves_no_service_behind(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "var").start()
    try:
        assert stack.process is not None
        supervisor = psutil.Process(stack.process.pid)
        children = supervisor.children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        for service in ("tickets-http", "tickets-worker", "closer", "email", "tansu", "redis"):
            assert service in names, names
        supervisor.kill()  # SIGKILL: no handler runs
        stack.process.wait(10)
        _gone, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
        assert port_is_free(stack.http_port) and port_is_free(stack.smtp_port)
        # And the data directory is free for the next run at once.
        stack.process = None
        stack.start()
        with stack.http("agent") as client:
            assert client.get("/api/v1/views/all").status_code == 200
    except BaseException:
        print(stack.tail(200))
        raise
    finally:
        stack.stop()
