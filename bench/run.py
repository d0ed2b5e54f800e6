"""`make bench`: run every benchmark module with its defaults and collect the results.

Each benchmark's last output line must be a JSON object. Prints each result as
it arrives, then one summary JSON line; exits non-zero if any benchmark failed.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# Modules here that are not benchmarks (besides the `_` helpers): this runner, and the
# SMTP sink `bench.send` starts (run alone, it serves until stopped).
NOT_BENCHMARKS = {"run", "smtp_sink"}


def benchmark_names() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(BENCH_DIR)])
        if not module.name.startswith("_") and module.name not in NOT_BENCHMARKS
    )


def main() -> int:
    results, failed = {}, []
    for name in benchmark_names():
        print(f"# bench.{name}", file=sys.stderr, flush=True)
        completed = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
        )
        lines = completed.stdout.strip().splitlines()
        try:
            result = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            result = None
        if completed.returncode != 0 or not isinstance(result, dict):
            failed.append(name)
            print(completed.stdout + completed.stderr, file=sys.stderr)
            continue
        results[name] = result
        print(json.dumps(result), flush=True)
    print(json.dumps({"benchmarks": results, "failed": failed}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
