"""cocotb tests of a generated accelerator, driven as a user's own flow would drive it.

Everything comes from the files generate-rtl writes beside the Verilog (the folder is
$ACCEL_DESIGN): register offsets and fields from the C header, opcodes and error codes from
manifest.json, and the GEMM (program, DRAM image, expected C from AccelGen's golden model) from
example_gemm.json. cocotbext-axi provides the AXI4-Lite manager for the registers and the AXI4
RAM that stands for DRAM, with random pauses on all five of its channels.
"""

import json
import logging
import os
import random
import re
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, First, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiRam

DESIGN = Path(os.environ["ACCEL_DESIGN"])
PAUSE_SEED = int(os.environ.get("ACCEL_PAUSE_SEED", "1"))
# Generous: the example GEMMs take a few thousand cycles.
TIMEOUT_CYCLES = 200_000


class Registers:
    """Register offsets and field masks read from the generated C header
    (`#define <MAP>_<REG>_OFFSET`, `<MAP>_<REG>_<FIELD>_LSB` and `_MASK`)."""

    def __init__(self, header: Path, prefix: str):
        defines = {}
        for m in re.finditer(r"^#define (\w+) (0x[0-9A-Fa-f]+|\d+)u?$", header.read_text(), re.M):
            defines[m.group(1)] = int(m.group(2), 0)
        self.offsets = {name[len(prefix):-len("_OFFSET")]: v for name, v in defines.items()
                        if name.startswith(prefix) and name.endswith("_OFFSET")}
        self.fields = {}
        for name, v in defines.items():
            if not name.endswith("_MASK"):
                continue
            rest = name[len(prefix):-len("_MASK")]
            # The longest register name that prefixes the macro (FIELD may contain '_').
            reg = max((r for r in self.offsets if rest.startswith(r + "_")), key=len)
            field = rest[len(reg) + 1:]
            self.fields[(reg, field)] = (v, defines[f"{prefix}{reg}_{field}_LSB"])

    def offset(self, reg):
        return self.offsets[reg]

    def get(self, value, reg, field):
        mask, lsb = self.fields[(reg, field)]
        return (value & mask) >> lsb

    def put(self, reg, **fields):
        value = 0
        for field, v in fields.items():
            mask, lsb = self.fields[(reg, field.upper())]
            value |= (v << lsb) & mask
        return value


def random_pauses(rng, probability=0.3):
    """cocotbext-axi pause generator: True pauses the channel for that cycle."""
    while True:
        yield rng.random() < probability


class Bench:
    def __init__(self, dut, ram_size):
        self.dut = dut
        self.manifest = json.loads((DESIGN / "manifest.json").read_text())
        params = self.manifest["parameters"]
        name = params["registers"]["name"]
        self.regs = Registers(DESIGN / f"{name}.h", name.upper() + "_")
        self.opcodes = params["isa"]
        self.errors = params["errors"]
        for bus in ("s_axil", "m_axi"):  # cocotbext-axi logs every transfer at INFO
            logging.getLogger(f"cocotb.{dut._name}.{bus}").setLevel(logging.WARNING)
        cocotb.start_soon(Clock(dut.clk, 10, units="ns").start())
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst, size=ram_size)
        rng = random.Random(PAUSE_SEED)
        for channel in (self.ram.write_if.aw_channel, self.ram.write_if.w_channel, self.ram.write_if.b_channel,
                        self.ram.read_if.ar_channel, self.ram.read_if.r_channel):
            channel.set_pause_generator(random_pauses(rng))

    async def reset(self):
        """One cycle of rst is enough from any power-up state (the manifest's `reset`)."""
        # Change rst between rising edges, so that exactly these edges see it high.
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, self.manifest["reset"]["minimumCycles"])
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def write(self, reg, value):
        await self.axil.write_dword(self.regs.offset(reg), value)

    async def read(self, reg):
        return await self.axil.read_dword(self.regs.offset(reg))

    async def read64(self, reg):
        return await self.read(reg + "_LO") | (await self.read(reg + "_HI")) << 32

    async def run(self, program_base, instructions, window_base, window_size):
        """Programs the registers, starts with the interrupt enabled, waits for irq; returns
        STATUS and CYCLES."""
        for reg, value in (("PROG_BASE", program_base), ("WINDOW_BASE", window_base), ("WINDOW_SIZE", window_size)):
            await self.write(reg + "_LO", value & 0xFFFF_FFFF)
            await self.write(reg + "_HI", value >> 32)
        await self.write("PROG_LEN", instructions)
        await self.write("CTRL", self.regs.put("CTRL", irq_enable=1, start=1))
        timeout = ClockCycles(self.dut.clk, TIMEOUT_CYCLES)
        if self.dut.irq.value != 1:
            fired = await First(RisingEdge(self.dut.irq), timeout)
            assert fired is not timeout, f"no irq within {TIMEOUT_CYCLES} cycles (STATUS 0x{await self.read('STATUS'):x})"
        return await self.read("STATUS"), await self.read64("CYCLES")

    def status(self, value):
        return {f: self.regs.get(value, "STATUS", f) for f in ("BUSY", "DONE", "ERROR", "ERROR_CODE")}


def load_example():
    return json.loads((DESIGN / "example_gemm.json").read_text())


def ram_size(example):
    end = example["window_base"] + example["window_size"]
    return 1 << max(16, (end - 1).bit_length())


def read_c(ram, example):
    """C in codes of the output format, read back from DRAM as example_gemm.json's `output`
    describes: row i, column j is field j % values_per_chunk of the chunk at base +
    i * row_stride_bytes + (j // values_per_chunk) * chunk_bytes."""
    out = example["output"]
    bits, per = out["value_bits"], out["values_per_chunk"]
    rows = []
    for i in range(example["m"]):
        row = []
        for j in range(example["n"]):
            chunk = ram.read(out["base"] + i * out["row_stride_bytes"] + (j // per) * out["chunk_bytes"], out["chunk_bytes"])
            v = (int.from_bytes(chunk, "little") >> ((j % per) * bits)) & ((1 << bits) - 1)
            if out["signed"] and v >> (bits - 1):
                v -= 1 << bits
            row.append(v)
        rows.append(row)
    return rows


@cocotb.test()
async def gemm_matches_golden(dut):
    """The example GEMM's program from DRAM; every value of C against the golden model's."""
    example = load_example()
    tb = Bench(dut, ram_size(example))
    await tb.reset()
    for region in example["dram"]:
        tb.ram.write(region["address"], bytes.fromhex(region["hex"]))
    status, cycles = await tb.run(example["program_base"], example["program_instructions"],
                                  example["window_base"], example["window_size"])
    s = tb.status(status)
    assert s == {"BUSY": 0, "DONE": 1, "ERROR": 0, "ERROR_CODE": 0}, f"STATUS {s}"
    got, expected = read_c(tb.ram, example), example["c"]
    wrong = [(i, j, got[i][j], expected[i][j]) for i in range(example["m"]) for j in range(example["n"])
             if got[i][j] != expected[i][j]]
    assert not wrong, (f"{len(wrong)} of {example['m'] * example['n']} values of C differ, first: "
                       + "; ".join(f"C[{i}][{j}] = {g}, expected {e}" for i, j, g, e in wrong[:5]))
    dut._log.info("GEMM %dx%dx%d: all %d values of C exact, %d cycles, %d bytes read, %d written",
                  example["m"], example["k"], example["n"], example["m"] * example["n"], cycles,
                  await tb.read("DMA_READ_BYTES"), await tb.read("DMA_WRITE_BYTES"))


@cocotb.test()
async def bad_opcode_sets_error(dut):
    """An instruction whose opcode is none of the manifest's: STATUS.error with the documented
    code, irq, nothing written to DRAM."""
    example = load_example()
    tb = Bench(dut, ram_size(example))
    await tb.reset()
    opcode = min(set(range(1, 16)) - set(tb.opcodes.values()))
    base = example["program_base"]
    tb.ram.write(base, opcode.to_bytes(8, "little") + bytes(8))
    status, _ = await tb.run(base, 1, example["window_base"], example["window_size"])
    s = tb.status(status)
    assert s == {"BUSY": 0, "DONE": 0, "ERROR": 1, "ERROR_CODE": tb.errors["badOpcode"]}, f"opcode {opcode}: STATUS {s}"
    assert await tb.read("PC") == 0
    assert await tb.read("DMA_WRITE_BYTES") == 0
    dut._log.info("opcode %d: STATUS.error, error_code %d (badOpcode)", opcode, s["ERROR_CODE"])
