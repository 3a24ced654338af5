"""``python -m bench [name ...]``: run the benchmarks (all, or those whose module name
contains a given word) and write ``docs/benchmarks.md``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench.report import Row, console, markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(argv: list[str]) -> None:
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    if argv:
        names = [n for n in names if any(word in n for word in argv)]
    rows: list[Row] = []
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        new_rows = module.run()
        console(new_rows)
        rows.extend(new_rows)
    if not argv:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(markdown(rows) + notes_kept(DOC))
        print(f"wrote {DOC}")


def notes_kept(doc: Path) -> str:
    """The hand-written sections (from the first ``## `` heading on) of the existing page:
    a run replaces the table of figures, not the notes on earlier runs."""
    if not doc.exists():
        return ""
    text = doc.read_text()
    start = text.find("\n## ")
    return "" if start < 0 else "\n" + text[start + 1 :]


if __name__ == "__main__":
    main(sys.argv[1:])
