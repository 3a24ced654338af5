"""Process bodies behind the CLI: serve SMTP, import files, retry the quarantine."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

from services.email_ingest.adapters.mail_files import read_messages
from services.email_ingest.application.ports import PublishFailed
from services.email_ingest.bootstrap import run_email_ingest
from services.settings import Settings

log = logging.getLogger("helpdesk.email_ingest")


async def serve_forever(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT, then stop accepting and close cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with run_email_ingest(settings) as ingest:
        log.info(
            "email ingest: SMTP on %s:%s for %s → %s",
            settings.smtp_host,
            ingest.smtp_port,
            settings.support_address,
            settings.topic_commands,
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, ingest.feed_task}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        log.info("email ingest stopping")


async def ingest_files(
    settings: Settings, paths: Sequence[Path], *, echo: Callable[[str], None] = print
) -> int:
    """Ingest every message found; returns how many could not be handed on."""
    failed = 0
    async with run_email_ingest(settings, smtp=False) as ingest:
        for path in paths:
            for label, raw in read_messages(path):
                try:
                    outcome = await ingest.service.ingest(raw)
                except PublishFailed as error:
                    failed += 1
                    echo(f"{label}: NOT handed on ({error}); run again later")
                    continue
                extra = f" ({outcome.reason})" if outcome.reason else ""
                echo(f"{label}: {outcome.kind.value}{extra}")
    return failed


async def retry_quarantined(
    settings: Settings,
    ids: Sequence[str] | None,
    *,
    max_bytes: int | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    failed = 0
    async with run_email_ingest(settings, smtp=False) as ingest:
        quarantine = ingest.quarantine
        for qid in ids or [q.id for q in quarantine.list()]:
            raw, mail_from, recipients = quarantine.get(qid)
            try:
                outcome = await ingest.service.ingest(
                    raw, mail_from=mail_from, recipients=recipients, max_bytes=max_bytes
                )
            except PublishFailed as error:
                failed += 1
                echo(f"{qid}: NOT handed on ({error}); still in quarantine")
                continue
            if outcome.quarantine_id == qid:
                echo(f"{qid}: still quarantined ({outcome.reason})")
                continue
            quarantine.remove(qid)
            echo(f"{qid}: {outcome.kind.value}; removed from quarantine")
    return failed


async def release_suspended(
    settings: Settings, ids: Sequence[str], *, by: str, echo: Callable[[str], None] = print
) -> int:
    """Release suspended mail (processed once, as if authenticated); returns how many
    could not be released."""
    from services.email_ingest.adapters import metrics
    from services.email_ingest.application.ports import SuspendedNotFound
    from services.email_ingest.application.suspension import AlreadyHandled, release

    failed = 0
    async with run_email_ingest(settings, smtp=False) as ingest:
        for sid in ids:
            try:
                done = await release(
                    ingest.service,
                    ingest.suspended,
                    sid,
                    by=by,
                    count=metrics.count_suspended_action,
                )
            except AlreadyHandled as error:
                echo(f"{sid}: already {error.record.action} by {error.record.by}; nothing done")
                continue
            except SuspendedNotFound:
                failed += 1
                echo(f"{sid}: no such suspended message")
                continue
            except PublishFailed as error:
                failed += 1
                echo(f"{sid}: NOT handed on ({error}); still suspended")
                continue
            if done.still_suspended:
                failed += 1
                echo(f"{sid}: still suspended ({done.outcome.reason})")
                continue
            extra = f" ticket #{done.outcome.ticket_number}" if done.outcome.ticket_number else ""
            echo(f"{sid}: released: {done.outcome.kind.value}{extra}")
    return failed


if __name__ == "__main__":  # python -m services.email_ingest.entrypoints.main
    from services.logging_setup import configure_logging
    from services.settings import get_settings

    configure_logging("email-ingest")
    asyncio.run(serve_forever(get_settings()))
