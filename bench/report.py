"""The row type every benchmark returns, and the markdown table they end up in."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    goal: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.value / self.baseline


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{mem}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def markdown(rows: list[Row]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} by `make bench`.",
        "Each figure stands next to a baseline measured in the same run; ratio = figure / "
        "baseline.",
        "",
        "| benchmark | figure | value | unit | baseline | baseline value | ratio | goal | note |",
        "|---|---|---:|---|---|---:|---:|---|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        lines.append(
            f"| {r.benchmark} | {r.figure} | {_fmt(r.value)} | {r.unit} | {r.baseline_name} | "
            f"{_fmt(r.baseline)} | {ratio} | {r.goal} | {r.note} |"
        )
    return "\n".join(lines) + "\n"


def console(rows: list[Row]) -> None:
    for r in rows:
        ratio = f"  ({r.ratio:.2f}x {r.baseline_name} {_fmt(r.baseline)})" if r.ratio else ""
        print(f"{r.benchmark:<28} {r.figure:<44} {_fmt(r.value):>12} {r.unit}{ratio}")
