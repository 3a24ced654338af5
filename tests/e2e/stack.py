"""Drives ``helpdesk stack run`` (what ``make run`` starts) as a subprocess, through its
public interfaces only: HTTP, SMTP and Kafka."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx

from services.event_stream.history import read_history
from services.local_stack.processes import free_port, tcp_check

T = TypeVar("T")
EVENTS_TOPIC = "helpdesk.ticket-events"


def eventually(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the stack may still be starting
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last error: {last!r})")


class Stack:
    def __init__(self, data_dir: Path, auto_close_after: str = "3s") -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port()
        self.smtp_port = free_port()
        # The stack's "stable" embedded ports, chosen free for this test (never the defaults:
        # other stacks and test runs share the machine); they stay across restarts.
        self.kafka_port = free_port()
        self.redis_port = free_port()
        self.env = {
            **os.environ,
            "HELPDESK_DATA_DIR": str(data_dir),
            "HELPDESK_HTTP_PORT": str(self.http_port),
            "HELPDESK_SMTP_PORT": str(self.smtp_port),
            "HELPDESK_STACK_KAFKA_PORT": str(self.kafka_port),
            "HELPDESK_STACK_REDIS_PORT": str(self.redis_port),
            "HELPDESK_AUTO_CLOSE_AFTER": auto_close_after,
            "HELPDESK_SUPPORT_ADDRESS": "support@example.com",
        }
        for name in ("HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_REDIS_URL", "HELPDESK_DATABASE_URL"):
            self.env.pop(name, None)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "stack-output.log"
        self.info: dict[str, Any] = {}
        self.extra: list[subprocess.Popen[bytes]] = []

    def launch(self) -> subprocess.Popen[bytes]:
        """Start ``helpdesk stack run`` without waiting for it."""
        (self.data_dir / "stack.json").unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "stack", "run"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        return self.process

    def start(self) -> Stack:
        """Start the stack and wait until it says every service serves."""
        self.launch()
        self.info = eventually(self._read_ready_info, "stack.json saying ready", 120)
        eventually(lambda: self.http().get("/readyz").status_code == 200, "readyz", 90)
        eventually(lambda: tcp_check(f"127.0.0.1:{self.smtp_port}") or True, "SMTP", 90)
        return self

    def _read_ready_info(self) -> dict[str, Any] | None:
        info = self.read_info()
        return info if info and info.get("status") == "ready" else None

    def read_info(self) -> dict[str, Any] | None:
        assert self.process is not None and self.process.poll() is None, self.tail()
        path = self.data_dir / "stack.json"
        try:
            return json.loads(path.read_text()) if path.exists() else None
        except ValueError:  # being written
            return None

    def stop(self) -> None:
        for extra in self.extra:
            _stop(extra)
        self.extra.clear()
        if self.process is not None:
            _stop(self.process, signal.SIGINT, timeout=40)
            self.process = None

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def token(self, role: str) -> str:
        return str(self.info["tokens"][role])

    def http(self, role: str | None = None, port: int | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(role)}"} if role else {}
        return httpx.Client(
            base_url=f"http://127.0.0.1:{port or self.http_port}", headers=headers, timeout=10
        )

    def send_mail(self, message: EmailMessage) -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.send_message(message)

    def spawn(self, argv: list[str], **env: str) -> subprocess.Popen[bytes]:
        """Another service process joining the running stack (same store, broker, Redis)."""
        joined = {
            **self.env,
            "HELPDESK_KAFKA_BOOTSTRAP": self.info["kafka_bootstrap"],
            "HELPDESK_REDIS_URL": self.info["redis_url"],
            **env,
        }
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, *argv],
                env=joined,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        self.extra.append(process)
        return process


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def mail(sender: str, subject: str, body: str, *, in_reply_to: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(body)
    return message


async def read_events(bootstrap: str, topic: str = EVENTS_TOPIC) -> list[dict[str, Any]]:
    """Every event on the topic right now, from the beginning (no consumer group)."""
    return [json.loads(r.value) async for r in read_history(bootstrap, topic) if r.value]
