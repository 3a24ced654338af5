"""The local stack's JWT secret: random, one per data directory, in ``<data_dir>/jwt-secret``
(mode 0600). ``helpdesk stack run`` makes it and hands it to its services; a ticket service
and ``helpdesk token`` started on the same data directory without ``HELPDESK_JWT_SECRET``
use it too. A configured secret always wins; with neither, the built-in secret remains,
which the HTTP service refuses to serve with."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from services.settings import BUILTIN_JWT_SECRETS, Settings

SECRET_FILE = "jwt-secret"
SECRET_BYTES = 48


def secret_path(data_dir: Path) -> Path:
    return data_dir / SECRET_FILE


def read_local_secret(data_dir: Path) -> str | None:
    """The data directory's secret, if the local stack made one."""
    path = secret_path(data_dir)
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        return None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # readable by the owner only, whoever loosened it
    return secret or None


def local_secret(data_dir: Path) -> str:
    """The data directory's secret, made on first use. The file appears whole or not at
    all (written aside, then linked into place), so two stacks starting at once agree: the
    loser of the link reads the winner's."""
    existing = read_local_secret(data_dir)
    if existing:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, aside = tempfile.mkstemp(dir=data_dir, prefix=f".{SECRET_FILE}-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(SECRET_BYTES) + "\n")
        with contextlib.suppress(FileExistsError):  # another stack made it first
            os.link(aside, secret_path(data_dir))
    finally:
        os.unlink(aside)
    made = read_local_secret(data_dir)
    assert made, f"{secret_path(data_dir)} is empty"
    return made


def configured_secret(settings: Settings) -> str | None:
    """``HELPDESK_JWT_SECRET`` unless it is the built-in one."""
    return None if settings.jwt_secret in BUILTIN_JWT_SECRETS else settings.jwt_secret


def stack_secret(settings: Settings) -> str:
    """What the local stack signs and verifies tokens with."""
    return configured_secret(settings) or local_secret(settings.data_dir)


def primary_secret(settings: Settings) -> str:
    """The secret of tokens without ``kid``: the configured one, else the local stack's of
    this data directory (read, never made), else the built-in one."""
    return (
        configured_secret(settings) or read_local_secret(settings.data_dir) or settings.jwt_secret
    )
