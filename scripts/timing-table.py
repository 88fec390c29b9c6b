#!/usr/bin/env python3
"""Prints the Markdown table of docs/TIMING.md from `generate-rtl --pnr` output folders.

Usage: scripts/timing-table.py DIR...   (each DIR holds manifest.json and timing.json)
"""
import json
import os
import sys


def row(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        top = json.load(f)["top"]
    with open(os.path.join(folder, "timing.json")) as f:
        t = json.load(f)
    name = os.path.basename(os.path.normpath(folder))
    if t.get("notApplicable"):
        return f"| {name} | n/a: {t['notApplicable']} | | | | | | {t['mult18']} | | |"
    seeds = ", ".join(f"{x:.1f}" for x in t["seedFmaxMHz"])
    path = f"`{t['criticalPath']}`"
    delay = f"{t['criticalPathNs']:.2f} ({t['criticalPathRoutingNs']:.2f})"
    seconds = f"{t['synthSeconds'] + t['pnrSeconds']:.0f}"
    return (f"| {name} (`{top}`) | {t['fmaxMHz']:.1f} | {seeds} | {path} | {delay} | "
            f"{t['logicCells']} | {t['flipFlops']} | {t['mult18']} | {t['bram']} | {seconds} |")


def main(folders):
    if not folders:
        sys.exit(__doc__.strip())
    device = None
    rows = []
    for folder in folders:
        rows.append(row(folder))
        with open(os.path.join(folder, "timing.json")) as f:
            device = device or json.load(f)["device"]
    print(f"{device}, out of context; Fmax is the median of placement seeds 1, 2, 3.\n")
    print("| design | Fmax MHz | per seed | critical path | ns (routing) | logic cells | FFs | MULT18 | DP16KD | P&R s |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main(sys.argv[1:])
