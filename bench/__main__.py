"""`make bench`: run the benchmarks (not part of `make test`).

    python -m bench              # every suite
    python -m bench booking      # one suite

Each suite is a module ``bench/<name>.py`` with ``main(results_dir: Path) -> dict``; its
figures are written to ``bench/results/<name>.json`` and printed as a short table.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
NOT_SUITES = {"harness", "data", "urls"}


def suites() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_") and m.name not in NOT_SUITES
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("suite", nargs="*", help=f"one or more of: {', '.join(suites()) or '(none yet)'}")
    args = parser.parse_args(argv)
    chosen = args.suite or suites()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        if name not in suites():
            parser.error(f"no benchmark suite named {name!r}")
        module = importlib.import_module(f"bench.{name}")
        figures = module.main(RESULTS)
        (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str))
        print(f"\n== {name} ==")
        for key, value in figures.items():
            print(f"  {key:<48} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
