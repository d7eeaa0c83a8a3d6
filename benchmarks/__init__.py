"""Benchmarks of the failover tool: `python -m benchmarks` (SPEC §7 budgets, issue 6).

Each section is a small module whose `run()` returns a `Section` (tables, raw
figures and budget checks). `__main__` runs them all, prints one table per
section and writes the figures as JSON under `benchmarks/results/`. Nothing
here is a test: it measures this machine, so it is not run in CI.
"""
