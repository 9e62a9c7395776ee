#!/usr/bin/env python3
"""Line coverage of rtl/ from a verilator_coverage --write-info (lcov) file.

  scripts/coverage_summary.py <rtl.info>

Prints one line per RTL source and the total, as `lines hit / lines instrumented`.
Generated wrappers (rtl/gen/) are listed too: they are part of what the tests exercise.
"""
import sys
from collections import defaultdict
from pathlib import Path


def main(path):
    hit = defaultdict(dict)
    current = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("SF:"):
            current = line[3:]
        elif line.startswith("DA:") and current:
            num, count = line[3:].split(",")[:2]
            # A line can carry several coverage points: it is covered if any was hit.
            hit[current][int(num)] = hit[current].get(int(num), False) or int(count) > 0
    rows = []
    for src, lines in sorted(hit.items()):
        rel = src[src.index("rtl/"):] if "rtl/" in src else src
        if not rel.startswith("rtl/"):
            continue
        rows.append((rel, sum(lines.values()), len(lines)))
    if not rows:
        print(f"coverage_summary: no rtl/ sources in {path}", file=sys.stderr)
        return 1
    width = max(len(r[0]) for r in rows)
    total_hit = sum(r[1] for r in rows)
    total = sum(r[2] for r in rows)
    print(f"{'RTL line coverage':<{width}}  {'hit':>5} / {'lines':<5}  percent")
    for rel, h, n in rows:
        print(f"{rel:<{width}}  {h:>5} / {n:<5}  {100.0 * h / n:6.1f}%")
    print(f"{'total':<{width}}  {total_hit:>5} / {total:<5}  {100.0 * total_hit / total:6.1f}%")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
