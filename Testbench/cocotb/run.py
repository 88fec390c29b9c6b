#!/usr/bin/env python3
"""Builds a generated accelerator in Icarus Verilog and runs the cocotb bench on it.

    python Testbench/cocotb/run.py DESIGN [--build DIR] [--seed S] [--waves]

DESIGN is a folder written by `generate-rtl accelerator --out DESIGN --example-gemm MxKxN`:
the Verilog, manifest.json, the C header of the registers and example_gemm.json. Exits 0 when
every test passes, else non-zero (cocotb's summary names the failing test).
"""

import argparse
import json
import sys
from pathlib import Path

from cocotb.runner import check_results_file, get_runner

TOPLEVEL = "accel_tb"
# AXI ID signals cocotbext-axi's AxiRam needs; the accelerator has a single ID (AXI order), so
# its manager ports have none and the wrapper drives 0, as an interconnect port would.
ID_OUTPUTS = ["m_axi_awid", "m_axi_arid"]
ID_INPUTS = ["m_axi_bid", "m_axi_rid"]


def wrapper(manifest):
    """A top around the accelerator with the same ports plus 1-bit AXI IDs."""
    ports = manifest["ports"]
    decls = []
    for p in ports:
        width = f"[{p['width'] - 1}:0] " if p["width"] > 1 else ""
        decls.append(f"    {p['direction']} wire {width}{p['name']}")
    decls += [f"    output wire {n}" for n in ID_OUTPUTS] + [f"    input wire {n}" for n in ID_INPUTS]
    conns = ",\n".join(f"        .{p['name']}({p['name']})" for p in ports)
    ties = "".join(f"    assign {n} = 1'b0;\n" for n in ID_OUTPUTS)
    return (f"// Written by Testbench/cocotb/run.py: {manifest['top']} with the AXI ID signals\n"
            f"// cocotbext-axi expects (one ID, driven 0; the responses' IDs are not used).\n"
            f"module {TOPLEVEL} (\n" + ",\n".join(decls) + "\n);\n" + ties +
            f"    {manifest['top']} dut (\n{conns}\n    );\nendmodule\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("design", type=Path, help="folder written by generate-rtl accelerator --example-gemm")
    ap.add_argument("--build", type=Path, default=Path("sim_build"), help="build folder (default: sim_build, cocotb's usual)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the AXI pauses (default 1)")
    ap.add_argument("--waves", action="store_true", help="dump an FST waveform into the build folder")
    args = ap.parse_args()

    design = args.design.resolve()
    manifest_file = design / "manifest.json"
    if not manifest_file.is_file() or not (design / "example_gemm.json").is_file():
        sys.exit(f"run.py: {design} needs manifest.json and example_gemm.json "
                 "(generate-rtl accelerator --out DIR --example-gemm MxKxN)")
    manifest = json.loads(manifest_file.read_text())
    build = args.build.resolve()
    build.mkdir(parents=True, exist_ok=True)
    top_file = build / f"{TOPLEVEL}.v"
    top_file.write_text(wrapper(manifest))
    sources = [design / f for f in manifest["files"] if f.endswith(".v")] + [top_file]

    # The runner hands sys.path (this script's folder first) to the simulator's Python, which
    # imports test_accelerator from here.
    runner = get_runner("icarus")
    runner.build(verilog_sources=sources, hdl_toplevel=TOPLEVEL, build_dir=build, always=True,
                 timescale=("1ns", "1ps"), waves=args.waves)
    # PYTHONDONTWRITEBYTECODE: nothing is written beside the bench's sources.
    env = {"ACCEL_DESIGN": str(design), "ACCEL_PAUSE_SEED": str(args.seed), "PYTHONDONTWRITEBYTECODE": "1"}
    results = runner.test(test_module="test_accelerator", hdl_toplevel=TOPLEVEL, build_dir=build, test_dir=build,
                          waves=args.waves, extra_env=env)
    # Outside pytest the runner leaves the verdict to its caller: exit non-zero on any failure
    # (or on a simulation that ended without writing its results).
    check_results_file(results)


if __name__ == "__main__":
    main()
