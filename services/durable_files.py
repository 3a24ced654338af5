"""Whole-or-absent files (email ingest's queues and the mail store): written to a temporary
name, fsynced, renamed into place, and the directory fsynced, so a crash leaves either the
old state or the new one."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """The temporary name is unique, so writers racing on one path never share it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def append_durably(path: Path, line: bytes) -> None:
    """Append one line and fsync (an audit log: lines are only ever added)."""
    with open(path, "ab") as f:
        f.write(line.rstrip(b"\n") + b"\n")
        f.flush()
        os.fsync(f.fileno())


def fsync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
