"""``python -m soak [--seconds N] [--store postgres|sqlite|both]``; exit status 1 on any
finding. The last line printed is ``soak: <F> faults, <C> commands, <L> lost, <D>
duplicated`` (summed over the stores run)."""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
from pathlib import Path

from soak.faults import PARTS
from soak.report import Result
from soak.run import run_soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600"))
    )
    parser.add_argument("--store", choices=["postgres", "sqlite", "both"], default="postgres")
    parser.add_argument(
        "--sqlite-share",
        type=float,
        default=0.25,
        help="with --store both: the share of the seconds run on SQLite",
    )
    parser.add_argument("--http-clients", type=int, default=3)
    parser.add_argument("--seed", type=int, default=random.randrange(1_000_000))
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="the parts the scheduler may kill (comma-separated)",
    )
    parser.add_argument("--recovery", choices=["republish", "none"], default="republish")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # our clients meet dead brokers
    plan = {
        "postgres": [("postgres", args.seconds)],
        "sqlite": [("sqlite", args.seconds)],
        "both": [
            ("postgres", args.seconds * (1 - args.sqlite_share)),
            ("sqlite", args.seconds * args.sqlite_share),
        ],
    }[args.store]
    results: list[Result] = []
    for store, seconds in plan:
        with tempfile.TemporaryDirectory(prefix=f"soak-{store}-") as data_dir:
            result = run_soak(
                seconds,
                store=store,
                data_dir=Path(data_dir),
                http_clients=args.http_clients,
                seed=args.seed,
                recovery=args.recovery,
                parts=tuple(p for p in args.parts.split(",") if p),
            )
        print("\n".join(result.lines()), flush=True)
        results.append(result)
    faults = sum(len(r.faults) for r in results)
    commands = sum(len(r.commands) for r in results)
    lost = sum(r.lost for r in results)
    duplicated = sum(r.duplicated for r in results)
    print(f"soak: {faults} faults, {commands} commands, {lost} lost, {duplicated} duplicated")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
