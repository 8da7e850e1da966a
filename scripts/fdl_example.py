"""Write `fdl-example.yaml` and `docs/fdl-reference.md` from the FDL's specs (`--check`: only say whether
they are up to date, exit 1 if not)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scar.config.reference import example_yaml, reference_markdown  # noqa: E402

TARGETS = {ROOT / "fdl-example.yaml": example_yaml, ROOT / "docs" / "fdl-reference.md": reference_markdown}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args()
    stale = [path for path, render in TARGETS.items()
             if not path.is_file() or path.read_text() != render()]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run python scripts/fdl_example.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(TARGETS[path]())
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
