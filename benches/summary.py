#!/usr/bin/env python3
"""Prints criterion's point estimates (the median) of the last run, one line per group and function.

    python3 summary.py [GROUP_PREFIX...]      e.g. python3 summary.py receive_binary_16B send_binary_16B

Reads target/criterion/<group>/<function>/new/estimates.json (written by `cargo bench`).
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent / "target" / "criterion"
prefixes = sys.argv[1:] or [""]
for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    if not any(group.name.startswith(prefix) for prefix in prefixes):
        continue
    for function in sorted(p for p in group.iterdir() if (p / "new" / "estimates.json").exists()):
        estimates = json.loads((function / "new" / "estimates.json").read_text())
        ns = estimates["median"]["point_estimate"]
        print(f"{group.name:24} {function.name:34} {ns / 1000:10.1f} us")
