"""Benchmarks: ``make bench`` runs every ``bench/bench_*.py`` module and writes
``docs/benchmarks.md``. Each module defines ``run() -> list[Row]``; every figure is printed
next to a baseline measured in the same run."""
