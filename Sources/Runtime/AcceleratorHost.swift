import Accelerator
import Cores
import Cosim
import Foundation
import Golden
import HDL

/// The host side of a generated accelerator, cycle by cycle on any `CycleSimulator`: the DRAM
/// behind `m_axi_*` (`AXIDRAM`), a protocol checker on every AXI and AXI4-Lite channel, and an
/// AXI4-Lite manager that reads and writes the registers. The host only writes memory and
/// registers; it never touches the design's inside.
public final class AcceleratorHost {
    public let config: AcceleratorConfig
    public let sim: any CycleSimulator
    public let dram: AXIDRAM
    public let checker: AXIChecker
    public let map: RegisterMap
    let io: Accelerator.Interface

    public init(_ config: AcceleratorConfig, timing: AXIDRAM.Timing = AXIDRAM.Timing(), initialState: InitialState = .default,
                backend: SimulatorBackend = .inProcess) throws {
        self.config = config
        io = Accelerator.Interface(config)
        map = RegisterMap.accelerator(config)
        sim = try backend.start(try Accelerator.module(config), record: false, initialState: initialState)
        dram = AXIDRAM(ports: io.axi, timing: timing)
        checker = AXIChecker(axi: io.axi, others: io.axil.channels)
        // One cycle of reset from whatever state the registers powered up in; the channels are
        // checked from the first cycle after it (the reset contract: outputs are defined after
        // the first edge with rst high).
        try sim.poke(Port.reset.name, 1)
        try idleLite()
        try dram.drive(sim, cycle: sim.cycle)
        try sim.step(1)
        try sim.poke(Port.reset.name, 0)
    }

    deinit { sim.close() }

    /// One clock cycle: the DRAM drives, the checker watches, the DRAM takes, the clock ticks.
    public func cycle() throws {
        let now = sim.cycle
        try dram.drive(sim, cycle: now)
        try checker.check(sim, cycle: now)
        try dram.observe(sim, cycle: now)
        try sim.step(1)
    }

    private func idleLite() throws {
        for ch in [io.axil.aw, io.axil.w, io.axil.ar] { try sim.poke(ch.valid.name, 0) }
        try sim.poke(io.axil.b.ready!.name, 0)
        try sim.poke(io.axil.r.ready!.name, 0)
    }

    /// Writes a register through AXI4-Lite (address and data offered together, then the response).
    public func write(_ register: String, _ value: UInt32, limit: Int = 1000) throws {
        let l = io.axil
        try sim.poke(l.aw["addr"]!.name, Int128(map[register].offset))
        try sim.poke(l.aw["prot"]!.name, 0)
        try sim.poke(l.w.data!.name, Int128(value))
        try sim.poke(l.w["strb"]!.name, 0xF)
        var (awDone, wDone, bDone) = (false, false, false)
        for _ in 0..<limit where !bDone {
            try sim.poke(l.aw.valid.name, awDone ? 0 : 1)
            try sim.poke(l.w.valid.name, wDone ? 0 : 1)
            try sim.poke(l.b.ready!.name, 1)
            if try sim.peekUnsigned(l.aw.ready!.name) == 1 { awDone = true }
            if try sim.peekUnsigned(l.w.ready!.name) == 1 { wDone = true }
            if try sim.peekUnsigned(l.b.valid.name) == 1 {
                if try sim.peekUnsigned(l.b["resp"]!.name) != 0 { throw HostError("write to \(register) answered \(try sim.peekUnsigned(l.b["resp"]!.name))") }
                bDone = true
            }
            try cycle()
            try idleLite()
        }
        if !bDone { throw HostError("write to \(register): no response in \(limit) cycles") }
    }

    /// Reads a register through AXI4-Lite.
    public func read(_ register: String, limit: Int = 1000) throws -> UInt32 {
        let l = io.axil
        try sim.poke(l.ar["addr"]!.name, Int128(map[register].offset))
        try sim.poke(l.ar["prot"]!.name, 0)
        var arDone = false
        for _ in 0..<limit {
            try sim.poke(l.ar.valid.name, arDone ? 0 : 1)
            try sim.poke(l.r.ready!.name, 1)
            if try sim.peekUnsigned(l.ar.ready!.name) == 1 { arDone = true }
            if try sim.peekUnsigned(l.r.valid.name) == 1 {
                let v = UInt32(try sim.peekUnsigned(l.r.data!.name))
                try cycle()
                try idleLite()
                return v
            }
            try cycle()
            try idleLite()
        }
        throw HostError("read of \(register): no data in \(limit) cycles")
    }

    public func read64(_ low: String, _ high: String) throws -> UInt64 {
        UInt64(try read(low)) | UInt64(try read(high)) << 32
    }

    /// What a run ended with.
    public struct Status: Equatable, Sendable {
        public let busy, done, error: Bool
        public let code: Int
        public init(busy: Bool, done: Bool, error: Bool, code: Int) { (self.busy, self.done, self.error, self.code) = (busy, done, error, code) }
        public var failure: AcceleratorError? { error ? AcceleratorError(rawValue: code) : nil }
    }

    public func status() throws -> Status {
        let s = try read("STATUS")
        return Status(busy: s & 1 != 0, done: s & 2 != 0, error: s & 4 != 0, code: Int(s >> 8 & 0xF))
    }

    /// Sets the program and window registers and starts; then waits for `irq` (enabled) and
    /// returns the status. `maxCycles` bounds the wait.
    public func run(program base: UInt64, length: Int, window: Range<UInt64>, maxCycles: Int = 2_000_000) throws -> Status {
        try write("PROG_BASE_LO", UInt32(truncatingIfNeeded: base)); try write("PROG_BASE_HI", UInt32(truncatingIfNeeded: base >> 32))
        try write("PROG_LEN", UInt32(length))
        try write("WINDOW_BASE_LO", UInt32(truncatingIfNeeded: window.lowerBound)); try write("WINDOW_BASE_HI", UInt32(truncatingIfNeeded: window.lowerBound >> 32))
        let size = window.upperBound - window.lowerBound
        try write("WINDOW_SIZE_LO", UInt32(truncatingIfNeeded: size)); try write("WINDOW_SIZE_HI", UInt32(truncatingIfNeeded: size >> 32))
        try write("CTRL", 0b101)  // irq enable, start
        try waitForIRQ(maxCycles: maxCycles)
        return try status()
    }

    /// The `irq` output, as the host's interrupt line sees it.
    public func irq() throws -> Bool { try sim.peekUnsigned(io.irq.name) == 1 }

    /// Steps until `irq` is high.
    public func waitForIRQ(maxCycles: Int) throws {
        for _ in 0..<maxCycles {
            if try sim.peekUnsigned(io.irq.name) == 1 { return }
            try cycle()
        }
        throw HostError("no interrupt within \(maxCycles) cycles (PC \(try read("PC")))")
    }

    /// CTRL.soft_reset, then waits until STATUS.busy falls.
    public func softReset(maxReads: Int = 10_000) throws {
        try write("CTRL", 0b010)
        for _ in 0..<maxReads {
            if try status().busy == false { return }
        }
        throw HostError("soft reset did not finish within \(maxReads) status reads")
    }

    /// Steps `n` cycles with nothing to do on the register port.
    public func idle(_ n: Int) throws { for _ in 0..<n { try cycle() } }

    /// The counters of the last run.
    public struct Counters: Sendable, Equatable {
        public let cycles: UInt64
        public let compute, stall, readBytes, writeBytes: UInt32
    }

    public func counters() throws -> Counters {
        Counters(cycles: try read64("CYCLES_LO", "CYCLES_HI"), compute: try read("COMPUTE_CYCLES"), stall: try read("STALL_CYCLES"),
                 readBytes: try read("DMA_READ_BYTES"), writeBytes: try read("DMA_WRITE_BYTES"))
    }
}

public struct HostError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
