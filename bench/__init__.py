"""Benchmarks (DESIGN.md §8). Each module runs standalone from the repository root:

    .venv/bin/python -m bench.<name> [options]

and prints one JSON object as its last line. `make bench` runs them all.
"""
