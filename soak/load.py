"""The load generators: HTTP clients, an upstream system on the commands topic and a mail
sender, each a thread recording what it sent in the :class:`Ledger`.

Retries are only made where they are safe: a create carries an ``Idempotency-Key`` and is
retried until answered; a comment, an update or a solve (no key on the API) is retried only
when the connection was refused (nothing was sent), else it stays unacknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import smtplib
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from soak.ledger import Channel, Command, Kind, Ledger, new_marker
from soak.stack import SUPPORT, Stack

CREATE_PATIENCE = 90.0
"""Seconds a create is retried (same key) before it is left unacknowledged."""


def requester_of(marker: str) -> str:
    return f"{marker}@example.com"


class HttpClient:
    """One agent: create a ticket, comment on it, update it, solve it; again."""

    def __init__(self, stack: Stack, ledger: Ledger, stop: threading.Event, seed: int) -> None:
        self.stack, self.ledger, self.stop = stack, ledger, stop
        self.rng = random.Random(seed)
        self.client = httpx.Client(
            base_url=stack.api_url,
            headers={"Authorization": f"Bearer {stack.token('agent', 'agent@example.com')}"},
            timeout=15.0,
        )

    def run(self) -> None:
        with self.client:
            while not self.stop.is_set():
                number = self.create()
                if number is None:
                    continue
                for _ in range(self.rng.randint(0, 2)):
                    marker = new_marker()
                    self.once("comment", marker, number, "POST", "comments", {"body": marker})
                marker = new_marker()
                self.once("update", marker, number, "PATCH", "", {"tags": [marker]})
                self.once("solve", new_marker(), number, "PATCH", "", {"status": "solved"})
                self.stop.wait(self.rng.uniform(0.0, 0.2))

    def create(self) -> int | None:
        marker = new_marker()
        command = self.ledger.record(Command("create", "http", marker))
        body = {"subject": f"soak {marker}", "requester": requester_of(marker), "description": ""}
        headers = {"Idempotency-Key": marker}
        deadline = time.monotonic() + CREATE_PATIENCE
        while time.monotonic() < deadline:
            try:
                response = self.client.post("/api/v1/tickets", json=body, headers=headers)
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            if response.status_code == 201:
                number = int(response.json()["number"])
                self.ledger.ack(command, number)
                return number
            if response.status_code < 500:
                command.refused = response.status_code
                return None
            time.sleep(0.5)
        return None

    def once(
        self, kind: Kind, marker: str, number: int, method: str, path: str, body: dict[str, Any]
    ) -> None:
        command = self.ledger.record(Command(kind, "http", marker, number))
        url = f"/api/v1/tickets/{number}" + (f"/{path}" if path else "")
        deadline = time.monotonic() + CREATE_PATIENCE
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                response = self.client.request(method, url, json=body)
            except httpx.ConnectError:  # refused: nothing was sent, safe to try again
                time.sleep(0.5)
                continue
            except httpx.TransportError:
                return  # sent, no answer: unacknowledged
            if response.is_success:
                self.ledger.ack(command)
            else:
                command.refused = response.status_code
            return


def _command(kind: str, data: dict[str, Any], **head: Any) -> bytes:
    value = {
        "command_id": str(uuid.uuid4()),
        "command_type": kind,
        "issued_at": datetime.now(UTC).isoformat(),
        "actor": {"role": "integration", "sub": "soak-upstream"},
        "data": data,
        **head,
    }
    return json.dumps(value).encode()


class KafkaClient:
    """An upstream system: ``CreateTicket`` and ``AddComment`` (follow-up if closed) on the
    commands topic, acknowledged by the broker (acks=all)."""

    def __init__(self, stack: Stack, ledger: Ledger, stop: threading.Event, seed: int) -> None:
        self.stack, self.ledger, self.stop = stack, ledger, stop
        self.rng = random.Random(seed)
        self.topic = stack.settings().topic_commands

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        producer: AIOKafkaProducer | None = None
        while not self.stop.is_set():
            if producer is None:
                producer = await self._producer()
                if producer is None:
                    await asyncio.sleep(0.5)
                    continue
            command, value, key = self._next()
            try:
                sent = producer.send_and_wait(self.topic, value, key=key)
                async with asyncio.timeout(15):
                    metadata = await sent
                command.offset = (metadata.partition, metadata.offset)
                self.ledger.ack(command)
            except (KafkaError, TimeoutError):
                await _quietly_stop(producer)
                producer = None
            await asyncio.sleep(self.rng.uniform(0.05, 0.3))
        if producer is not None:
            await _quietly_stop(producer)

    async def _producer(self) -> AIOKafkaProducer | None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.stack.bootstrap, acks="all", request_timeout_ms=10_000
        )
        try:
            async with asyncio.timeout(15):
                await producer.start()
        except (KafkaError, TimeoutError, OSError):
            await _quietly_stop(producer)
            return None
        return producer

    def _next(self) -> tuple[Command, bytes, bytes | None]:
        marker = new_marker()
        known = self.ledger.known_tickets()
        if known and self.rng.random() < 0.5:
            number = self.rng.choice(known[-50:])
            command = self.ledger.record(Command("comment", "kafka", marker, number))
            data = {"body": marker, "follow_up_if_closed": True, "source_key": marker}
            return command, _command("AddComment", data, ticket_number=number), None
        command = self.ledger.record(Command("create", "kafka", marker))
        data = {"subject": f"soak {marker}", "requester": requester_of(marker)}
        return command, _command("CreateTicket", data), marker.encode()


async def _quietly_stop(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(KafkaError, TimeoutError, OSError):
        async with asyncio.timeout(10):
            await producer.stop()


class MailClient:
    """Customers writing to the support address: new tickets, and replies to known tickets
    by plus-address (a reply to a closed ticket becomes a follow-up)."""

    def __init__(self, stack: Stack, ledger: Ledger, stop: threading.Event, seed: int) -> None:
        self.stack, self.ledger, self.stop = stack, ledger, stop
        self.rng = random.Random(seed)

    def run(self) -> None:
        while not self.stop.is_set():
            marker = new_marker()
            known = self.ledger.known_tickets()
            message = EmailMessage()
            message["Message-ID"] = f"<{marker}@example.com>"
            if known and self.rng.random() < 0.5:
                number = self.rng.choice(known[-50:])
                command = Command("reply", "smtp", marker, number)
                local, _, domain = SUPPORT.partition("@")
                message["To"] = f"{local}+{number}@{domain}"
                message["From"] = self._requester(number) or requester_of(marker)
                message["Subject"] = f"Re: ticket {number}"
            else:
                command = Command("create", "smtp", marker)
                message["To"] = SUPPORT
                message["From"] = requester_of(marker)
                message["Subject"] = f"soak {marker}"
            message.set_content(f"{marker}\n")
            self.ledger.record(command)
            self._send(command, message)
            self.stop.wait(self.rng.uniform(0.1, 0.5))

    def _requester(self, number: int) -> str | None:
        for marker, known in self.ledger.created.copy().items():
            if known == number:
                return requester_of(marker)
        return None

    def _send(self, command: Command, message: EmailMessage) -> None:
        deadline = time.monotonic() + CREATE_PATIENCE
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                with smtplib.SMTP(*self.stack.smtp_address, timeout=30) as smtp:
                    smtp.send_message(message)
                self.ledger.ack(command)
                return
            except ConnectionRefusedError:
                time.sleep(0.5)  # nothing was sent
            except (smtplib.SMTPException, OSError):
                return  # cut short or refused: unacknowledged (a resend is a new mail)


def start_load(
    stack: Stack, ledger: Ledger, stop: threading.Event, http_clients: int, seed: int
) -> list[threading.Thread]:
    makers: list[Callable[[], Any]] = [
        *(HttpClient(stack, ledger, stop, seed + i).run for i in range(http_clients)),
        KafkaClient(stack, ledger, stop, seed + 100).run,
        MailClient(stack, ledger, stop, seed + 200).run,
    ]
    threads = [threading.Thread(target=run, daemon=True, name="soak-load") for run in makers]
    for thread in threads:
        thread.start()
    return threads


__all__ = ["Channel", "HttpClient", "KafkaClient", "MailClient", "start_load"]
