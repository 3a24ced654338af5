"""Mail delivered as files: single ``.eml`` files, mbox files and Maildir directories."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def _is_mbox(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(5) == b"From "


def read_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(label, raw bytes)`` for each message in an .eml file, an mbox, or a Maildir."""
    if _is_maildir(path):
        box = mailbox.Maildir(path, create=False)
        for key in box.iterkeys():
            yield f"{path}:{key}", box.get_bytes(key)
    elif path.is_dir():
        for child in sorted(path.iterdir()):
            if child.is_file():
                yield from read_messages(child)
    elif _is_mbox(path):
        mbox = mailbox.mbox(path, create=False)
        for key in mbox.iterkeys():
            yield f"{path}:{key}", mbox.get_bytes(key)
    else:
        yield str(path), path.read_bytes()
