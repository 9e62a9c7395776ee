#!/usr/bin/env python3
"""Runs gen_config.py --check on a broken copy of the real rtl/cfg/hw_configs.json.

    config_case.py <case>

Each case changes one thing in the current configuration file (so the cases never go stale
when a parameter is added) and the test expects gen_config.py to refuse it with a message
naming the problem.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "rtl" / "cfg" / "hw_configs.json"


def bad_fifo_depth(d):
    d["configs"]["ecp5"]["out_fifo_depth"] = 4


def missing_param(d):
    del d["configs"]["up5k"]["array_rows"]


def bank_not_word_multiple(d):
    d["configs"]["odd"]["act_bank_bytes"] = 1000


def bad_default(d):
    d["default"] = "nope"


def vector_sizes_without_vector_unit(d):
    d["configs"]["ecp5"]["vector_unit"] = 0


def bad_counter_width(d):
    d["configs"]["odd"]["perf_counter_bits"] = 48


CASES = {f.__name__: f for f in (bad_fifo_depth, missing_param, bank_not_word_multiple, bad_default,
                                 vector_sizes_without_vector_unit, bad_counter_width)}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: config_case.py <{'|'.join(CASES)}>")
    data = json.loads(SRC.read_text())
    CASES[sys.argv[1]](data)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{sys.argv[1]}.json"
        src.write_text(json.dumps(data, indent=2))
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_config.py"), "--check", "--src", str(src)])
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
