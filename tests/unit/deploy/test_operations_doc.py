"""``docs/operations.md`` documents every setting, with its default."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.closer_worker.config import CloserConfig
from services.outbound_mail.config import MailConfig
from services.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
TABLE_ROWS = [line for line in DOC.read_text().splitlines() if line.startswith("| ")]


def fields(model: type[Any]) -> list[tuple[str, Any]]:
    prefix = model.model_config["env_prefix"]
    return [(f"{prefix}{name}".upper(), info.default) for name, info in model.model_fields.items()]


DURATIONS = {
    timedelta(days=7): "7d",
    timedelta(hours=24): "24h",
    timedelta(hours=1): "1h",
    timedelta(days=3): "3d",
}
"""Duration defaults as the table writes them."""


def as_documented(default: Any) -> str | None:
    """How a default is written in the table (None: the row says ``unset``)."""
    if default is None:
        return None
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, float):
        return f"`{default:g}`"
    if isinstance(default, Path):
        return f"`./{default}`" if not default.is_absolute() else f"`{default}`"
    if isinstance(default, timedelta) and default in DURATIONS:
        return f"`{DURATIONS[default]}`"
    return f"`{default}`"


@pytest.mark.parametrize(
    ("variable", "default"), fields(Settings) + fields(CloserConfig) + fields(MailConfig)
)
def test_every_setting_is_documented_with_its_default(variable: str, default: Any) -> None:
    rows = [row for row in TABLE_ROWS if f"`{variable}`" in row]
    assert len(rows) == 1, f"{variable}: expected one row in docs/operations.md, found {rows}"
    expected = as_documented(default)
    if expected is None:
        assert "unset" in rows[0], rows[0]
    else:
        assert expected in rows[0], f"{variable}: default {expected} not in {rows[0]!r}"
