"""The soak's report: what ran, what broke, and the one last line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from soak.checks import Findings
from soak.faults import Fault
from soak.ledger import Command

SHOWN = 20
"""Findings printed per list (all are counted)."""


@dataclass
class Result:
    store: str
    seconds: float
    faults: list[Fault]
    commands: list[Command]
    findings: Findings
    settle_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.findings.lost)

    @property
    def duplicated(self) -> int:
        return len(self.findings.duplicated)

    @property
    def ok(self) -> bool:
        return not (self.findings.lost or self.findings.duplicated or self.findings.other)

    def last_line(self) -> str:
        return (
            f"soak: {len(self.faults)} faults, {len(self.commands)} commands, "
            f"{self.lost} lost, {self.duplicated} duplicated"
        )

    def lines(self) -> list[str]:
        out = [f"soak on {self.store}: {self.seconds:.0f} s of load and faults"]
        by_part = Counter(f.part for f in self.faults)
        out.append("faults: " + ", ".join(f"{p} {n}" for p, n in sorted(by_part.items())))
        for fault in self.faults:
            if fault.error:
                out.append(f"  {fault.part} did not come back at once: {fault.error[:300]}")
        load: Counter[str] = Counter()
        acked: Counter[str] = Counter()
        for command in self.commands:
            key = f"{command.channel} {command.kind}"
            load[key] += 1
            acked[key] += command.acked
        out.append(
            "load (acknowledged/sent): "
            + ", ".join(f"{key} {acked[key]}/{n}" for key, n in sorted(load.items()))
        )
        out.append(f"settled in {self.settle_seconds:.0f} s")
        out += self.notes
        for title, found in (
            ("LOST", self.findings.lost),
            ("DUPLICATED", self.findings.duplicated),
            ("VIOLATION", self.findings.other),
            ("lost with the memory-only broker (not counted)", self.findings.excused),
        ):
            if found:
                out.append(f"{title}: {len(found)}")
                out += [f"  {line}" for line in found[:SHOWN]]
        out.append(self.last_line())
        return out
