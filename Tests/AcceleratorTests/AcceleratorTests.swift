import Accelerator
import Cores
import Cosim
import Foundation
import Golden
import HDL
import Model
import Runtime
import Testing
import TestTags

/// The golden model of `config`'s array after reset (the program's CONFIG reseeds it).
func model(_ c: ArrayConfig) -> SystolicModel {
    SystolicModel(rows: c.rows, cols: c.cols, a: c.a.golden, b: c.b.golden, accBits: c.accBits, output: c.output.golden,
                  mode: c.rounding, lfsrWidth: c.lfsrWidth, seed: c.seed, draw: c.lfsrStep)
}

func randomGEMM(_ c: ArrayConfig, m: Int, k: Int, n: Int, seed: UInt64) -> (Matrix<Int128>, Matrix<Int128>) {
    var g = SplitMix64(seed: seed)
    let (fa, fb) = (c.a.golden, c.b.golden)
    return (Matrix(rows: m, cols: k) { _, _ in Int128.random(in: fa.minInt...fa.maxInt, using: &g) },
            Matrix(rows: k, cols: n) { _, _ in Int128.random(in: fb.minInt...fb.maxInt, using: &g) })
}

/// Loads a compiled GEMM into the host's DRAM, runs it, and returns C from DRAM.
func runGEMM(_ host: AcceleratorHost, _ g: GEMMProgram) throws -> (AcceleratorHost.Status, Matrix<Int128>) {
    for region in g.image { host.dram.write(region.bytes, at: region.address) }
    let status = try host.run(program: g.programBase, length: g.program.count, window: g.window)
    return (status, g.output(from: host.dram, config: host.config))
}

func small(_ rows: Int, _ cols: Int, scratchpadKiB: Int = 1, dataBits: Int = 64) -> AcceleratorConfig {
    AcceleratorConfig(array: ArrayConfig(rows: rows, cols: cols), scratchpadKiB: scratchpadKiB, outputKiB: 1, dataBits: dataBits)
}

@Suite struct AcceleratorGEMMTests {
    @Test(arguments: [
        (2, 2, 1, 1, 1), (2, 2, 5, 7, 3), (3, 2, 7, 4, 9), (2, 2, 9, 33, 6), (3, 2, 2, 5, 1),
    ])
    func gemmMatchesGolden(rows: Int, cols: Int, m: Int, k: Int, n: Int) throws {
        let c = small(rows, cols)
        let (a, b) = randomGEMM(c.array, m: m, k: k, n: n, seed: UInt64(m * 100 + k * 10 + n))
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 7, bytesPerCycle: 8, backpressure: 0.3, seed: 5),
                                       initialState: .random(seed: 11))
        let g = try GEMMProgram(a: a, b: b, config: c)
        let (status, got) = try runGEMM(host, g)
        #expect(status == AcceleratorHost.Status(busy: false, done: true, error: false, code: 0))
        var golden = model(c.array)
        let expected = golden.gemm(a: a, b: b).c
        #expect(got.elements == expected.elements)
        #expect(host.checker.handshakes > 0)
    }
}

@Suite struct AcceleratorShapesTests {
    /// 128-bit data and 64-bit addresses, a program far above 4 GiB.
    @Test func wideBusAndAddresses() throws {
        let c = AcceleratorConfig(array: ArrayConfig(rows: 3, cols: 2), scratchpadKiB: 1, outputKiB: 1, dataBits: 128, addressBits: 64)
        let (a, b) = randomGEMM(c.array, m: 7, k: 6, n: 5, seed: 3)
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 3, bytesPerCycle: 16, backpressure: 0.2, seed: 9), initialState: .random(seed: 4))
        let g = try GEMMProgram(a: a, b: b, config: c, base: 0x7_0000_0000)
        let (status, got) = try runGEMM(host, g)
        #expect(status.done && !status.error)
        var golden = model(c.array)
        #expect(got.elements == golden.gemm(a: a, b: b).c.elements)
    }

    /// A and B banks too small for all tiles at once: A in groups, B reloaded per tile row; a
    /// dynamic shift from the program.
    @Test func reloadsAndShift() throws {
        let c = AcceleratorConfig(array: ArrayConfig(rows: 2, cols: 2), scratchpadKiB: 1, outputKiB: 1)
        // Banks of 256 rows (1 KiB / 2 / 16 bits): K = 100 fits two tiles of A or B at a time.
        let (a, b) = randomGEMM(c.array, m: 7, k: 100, n: 7, seed: 8)
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 12, bytesPerCycle: 4, backpressure: 0.1, seed: 2), initialState: .random(seed: 6))
        let g = try GEMMProgram(a: a, b: b, config: c, shift: 7)
        #expect(g.program.filter { if case .load(bank: 1, _, _, _, _) = $0 { true } else { false } }.count > 1)
        let (status, got) = try runGEMM(host, g)
        #expect(status.done && !status.error)
        var golden = model(c.array)
        golden.setShift(7)
        #expect(got.elements == golden.gemm(a: a, b: b).c.elements)
        // The counters agree with the DRAM's own counts, and every beat went into the array once.
        let counters = try host.counters()
        #expect(Int(counters.readBytes) == host.dram.counts.bytesRead)
        #expect(Int(counters.writeBytes) == host.dram.counts.bytesWritten)
        #expect(Int(counters.compute) == 4 * 4 * 100)
        #expect(counters.cycles > UInt64(counters.compute) + UInt64(counters.stall))
    }

    /// Rows of two beats straddling 4 KiB boundaries: each LOAD and STORE row is split into two
    /// bursts (the checker refuses any burst that crosses), and the data still arrives whole.
    @Test func burstsSplitAt4KiB() throws {
        let c = AcceleratorConfig(array: ArrayConfig(rows: 9, cols: 9), scratchpadKiB: 2, outputKiB: 1)
        #expect(c.rowBeats(.a) == 2 && c.rowBeats(.b) == 2 && c.rowBeats(.c) == 2)
        let k = 3
        let (a, b) = randomGEMM(c.array, m: 9, k: k, n: 9, seed: 21)
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 5, bytesPerCycle: 8, backpressure: 0.25, seed: 3), initialState: .random(seed: 8))
        func row(_ values: [Int128], width: Int) -> [UInt8] {
            var words: [UInt64] = []
            SystolicHarness.pack(values.count, width: width, into: &words) { values[$0] }
            return Array((words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } } + [UInt8](repeating: 0, count: 16)).prefix(16))
        }
        // Row p of A at 0x1FF8 + 4096·p: every row's first beat is below a boundary, its second above.
        let (aBase, bBase, cBase): (UInt64, UInt64, UInt64) = (0x1FF8, 0x5FF8, 0x9FF8)
        for p in 0..<k {
            host.dram.write(row((0..<9).map { a[$0, p] }, width: 8), at: aBase + UInt64(4096 * p))
            host.dram.write(row((0..<9).map { b[p, $0] }, width: 8), at: bBase + UInt64(4096 * p))
        }
        let program: [ISA.Instruction] = [
            .config(shift: nil, reseed: true),
            .load(bank: 0, row: 0, rows: k, stride: 4096, dram: aBase), .load(bank: 1, row: 0, rows: k, stride: 4096, dram: bBase),
            .gemm(a: 0, b: 0, k: k, c: 0), .store(row: 0, rows: 9, stride: 4096, dram: cBase), .finish,
        ]
        host.dram.write(ISA.bytes(program), at: 0x100)
        let status = try host.run(program: 0x100, length: program.count, window: 0..<0x20000)
        #expect(status.done && !status.error)
        // 6 instruction fetches, 2·3 LOAD rows and 9 STORE rows, each row in two bursts.
        #expect(host.dram.counts.readBursts == 6 + 2 * 2 * k)
        #expect(host.dram.counts.writeBursts == 2 * 9)
        var golden = model(c.array)
        let expected = golden.gemm(a: a, b: b).c
        for i in 0..<9 {
            let bytes = host.dram.read(16, at: cBase + UInt64(4096 * i))
            var words = [UInt64](repeating: 0, count: 2)
            for (x, byte) in bytes.enumerated() { words[x / 8] |= UInt64(byte) << (8 * UInt64(x % 8)) }
            let got = (0..<9).map { SystolicHarness.field(words[...], at: 8 * $0, width: 8, signed: true) }
            #expect(got == (0..<9).map { expected[i, $0] }, "row \(i)")
        }
    }

    @Test func registersReadBack() throws {
        let c = small(3, 2)
        let host = try AcceleratorHost(c, initialState: .random(seed: 2))
        for (name, value) in RegisterMap.hardwareValues(c) { #expect(try host.read(name) == value, "\(name)") }
        try host.write("PROG_LEN", 0x1234_5678)
        #expect(try host.read("PROG_LEN") == 0x1234_5678)
        #expect(try host.status() == AcceleratorHost.Status(busy: false, done: false, error: false, code: 0))
    }

    @Test func compilerRefusesWhatCannotFit() throws {
        let c = small(2, 2)
        let (a, b) = randomGEMM(c.array, m: 2, k: 300, n: 2, seed: 1)
        #expect(throws: GEMMProgram.Refusal.self) { try GEMMProgram(a: a, b: b, config: c) }
        do { _ = try GEMMProgram(a: a, b: b, config: c) } catch {
            #expect("\(error)".contains("K = 300 needs 300 rows") && !"\(error)".contains("\n"))
        }
    }
}

@Suite struct AcceleratorErrorTests {
    let c = small(2, 2)

    /// Runs `program` at 0x1000 with a window of [0x1000, 0x10000), returns the status and
    /// whether the DRAM saw any write.
    func run(_ program: [ISA.Instruction], prepare: (AcceleratorHost) -> Void = { _ in }) throws -> (AcceleratorHost, AcceleratorHost.Status) {
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 4, backpressure: 0.2, seed: 7), initialState: .random(seed: 3))
        prepare(host)
        host.dram.write(ISA.bytes(program), at: 0x1000)
        return (host, try host.run(program: 0x1000, length: program.count, window: 0x1000..<0x10000))
    }

    @Test(arguments: [
        ([ISA.Instruction.raw(opcode: 9)], AcceleratorError.badOpcode),
        ([.raw(opcode: 0)], .badOpcode),
        ([.load(bank: 0, row: 0, rows: 2, stride: 8, dram: 0xFFF8), .finish], .outsideWindow),
        ([.load(bank: 0, row: 0, rows: 1, stride: 8, dram: 0x800), .finish], .outsideWindow),
        ([.store(row: 0, rows: 1, stride: 8, dram: 0x10000), .finish], .outsideWindow),
        ([.load(bank: 1, row: 255, rows: 2, stride: 8, dram: 0x2000), .finish], .tooLarge),
        ([.load(bank: 1, row: 0, rows: 0, stride: 8, dram: 0x2000), .finish], .tooLarge),
        ([.gemm(a: 0, b: 0, k: 257, c: 0), .finish], .tooLarge),
        ([.gemm(a: 0, b: 0, k: 1, c: 511), .finish], .tooLarge),
        ([.load(bank: 0, row: 0, rows: 1, stride: 8, dram: 0x2004), .finish], .misaligned),
        ([.load(bank: 0, row: 0, rows: 2, stride: 12, dram: 0x2000), .finish], .misaligned),
        ([.config(shift: 11, reseed: false), .finish], .badOperand),
        ([.load(bank: 3, row: 0, rows: 1, stride: 8, dram: 0x2000), .finish], .badOperand),
        ([.output(c: 0, rows: 0, bias: nil, a: nil, relu: false), .finish], .tooLarge),
        ([.output(c: 500, rows: 13, bias: nil, a: nil, relu: false), .finish], .tooLarge),
        ([.output(c: 0, rows: 4, bias: 510, a: nil, relu: true), .finish], .tooLarge),
        ([.output(c: 0, rows: 129, bias: nil, a: 0, relu: false), .finish], .tooLarge),
        ([.output(c: 0, rows: 2, bias: nil, a: 253, relu: false), .finish], .tooLarge),
        ([.config(shift: 3, reseed: true)], .programEnd),
    ])
    func stopsWithCode(_ program: [ISA.Instruction], _ expected: AcceleratorError) throws {
        let (host, status) = try run(program)
        #expect(status.error && !status.done && !status.busy)
        #expect(status.failure == expected)
        #expect(host.dram.counts.bytesWritten == 0)
        #expect(host.dram.idle)
    }

    /// The program itself outside the window, or at a base not a multiple of 16: nothing read.
    @Test func fetchChecks() throws {
        for (base, window, expected) in [(UInt64(0x1000), UInt64(0x2000)..<0x3000, AcceleratorError.outsideWindow),
                                         (0x2FF0, 0x2000..<0x3008, .outsideWindow), (0x1008, 0x1000..<0x2000, .misaligned)] {
            let host = try AcceleratorHost(c, initialState: .random(seed: 5))
            host.dram.write(ISA.bytes([.finish, .finish]), at: base)
            let status = try host.run(program: base, length: 2, window: window)
            #expect(status.failure == expected, "base 0x\(String(base, radix: 16))")
            #expect(host.dram.counts.bytesRead == 0)
        }
    }

    @Test func axiReadErrorOnLoadAndFetch() throws {
        for resp in [AXI.respSlverr, AXI.respDecerr] {
            let (host, status) = try run([.load(bank: 0, row: 0, rows: 4, stride: 8, dram: 0x2000), .finish]) {
                $0.dram.faults = [(0x2010..<0x2011, resp)]
            }
            #expect(status.failure == .axiRead)
            #expect(host.dram.idle)
            let (_, fetch) = try run([.finish]) { $0.dram.faults = [(0x1000..<0x1010, resp)] }
            #expect(fetch.failure == .axiRead)
        }
    }

    @Test func axiWriteError() throws {
        let (host, status) = try run([.store(row: 0, rows: 3, stride: 8, dram: 0x3000), .finish]) {
            $0.dram.faults = [(0x3008..<0x3010, AXI.respSlverr)]
        }
        #expect(status.failure == .axiWrite)
        #expect(host.dram.idle)
    }

    /// After an error, start runs the next program exactly.
    @Test func recoversAfterError() throws {
        let (host, status) = try run([.raw(opcode: 15)])
        #expect(status.failure == .badOpcode)
        let (a, b) = randomGEMM(c.array, m: 3, k: 4, n: 5, seed: 5)
        let g = try GEMMProgram(a: a, b: b, config: c, base: 0x4000)
        let (again, got) = try runGEMM(host, g)
        #expect(again == AcceleratorHost.Status(busy: false, done: true, error: false, code: 0))
        var golden = model(c.array)
        #expect(got.elements == golden.gemm(a: a, b: b).c.elements)
    }
}

@Suite struct AcceleratorSoftResetTests {
    /// A soft reset at several points of a GEMM program (fetching, loading, computing,
    /// storing), then the same program again from a cleared output: exact, checker clean.
    @Test(arguments: [5, 40, 90, 160, 260])
    func softResetThenExactRerun(after cycles: Int) throws {
        let c = small(2, 2)
        let (a, b) = randomGEMM(c.array, m: 5, k: 6, n: 5, seed: 12)
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 9, bytesPerCycle: 8, backpressure: 0.3, seed: UInt64(cycles)),
                                       initialState: .random(seed: UInt32(cycles)))
        let g = try GEMMProgram(a: a, b: b, config: c)
        for region in g.image { host.dram.write(region.bytes, at: region.address) }
        try host.write("PROG_BASE_LO", UInt32(g.programBase)); try host.write("PROG_LEN", UInt32(g.program.count))
        try host.write("WINDOW_BASE_LO", UInt32(g.window.lowerBound)); try host.write("WINDOW_SIZE_LO", UInt32(g.window.count))
        try host.write("CTRL", 0b101)
        try host.idle(cycles)
        #expect(try host.status().busy)
        try host.softReset()
        #expect(try host.status() == AcceleratorHost.Status(busy: false, done: false, error: false, code: 0))
        #expect(host.dram.idle)
        host.dram.write([UInt8](repeating: 0, count: Int(g.window.upperBound - g.outputBase)), at: g.outputBase)
        let (status, got) = try runGEMM(host, g)
        #expect(status == AcceleratorHost.Status(busy: false, done: true, error: false, code: 0))
        var golden = model(c.array)
        #expect(got.elements == golden.gemm(a: a, b: b).c.elements)
    }
}

@Suite struct AcceleratorCyclesTests {
    /// A GEMM program's cycles (CYCLES, from start to FINISH) against the array alone fed every
    /// cycle (docs/SYSTOLIC.md's formula): the program costs at least that, every beat enters
    /// the array once, and the figures are printed for docs/ACCELERATOR.md.
    @Test(arguments: [(2, 2, 8, 64, 8, 1), (8, 8, 16, 64, 16, 16)])
    func programAgainstArrayOnly(rows: Int, cols: Int, m: Int, k: Int, n: Int, kib: Int) throws {
        let c = AcceleratorConfig(array: ArrayConfig(rows: rows, cols: cols), scratchpadKiB: kib, outputKiB: 4)
        let (a, b) = randomGEMM(c.array, m: m, k: k, n: n, seed: 31)
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 100, bytesPerCycle: 8), initialState: .random(seed: 1))
        let g = try GEMMProgram(a: a, b: b, config: c)
        let (status, got) = try runGEMM(host, g)
        #expect(status.done && !status.error)
        var golden = model(c.array)
        #expect(got.elements == golden.gemm(a: a, b: b).c.elements)
        let counters = try host.counters()
        let tiles = ((m + rows - 1) / rows) * ((n + cols - 1) / cols)
        let arrayOnly = c.array.expectedCycles(m: m, n: n, k: k)
        #expect(Int(counters.compute) == tiles * k)
        #expect(Int(counters.cycles) > arrayOnly)
        print("accelerator \(rows)x\(cols), GEMM \(m)x\(k)x\(n), DRAM 100 cycles latency, 8 B/cycle: \(g.program.count) instructions, "
              + "\(counters.cycles) cycles (array alone \(arrayOnly), ratio \(String(format: "%.2f", Double(counters.cycles) / Double(arrayOnly)))), "
              + "compute \(counters.compute), stalled on memory \(counters.stall), read \(counters.readBytes) B, written \(counters.writeBytes) B")
    }
}

@Suite struct AcceleratorProgramTests {
    /// docs/ACCELERATOR.md's worked program: the compiler's schedule and the encodings, written
    /// out by hand from the tables there.
    @Test func workedProgram() throws {
        let c = small(2, 2)
        let (a, b) = randomGEMM(c.array, m: 3, k: 4, n: 5, seed: 1)
        let g = try GEMMProgram(a: a, b: b, config: c)
        var expected: [ISA.Instruction] = [
            .config(shift: nil, reseed: true),
            .load(bank: 1, row: 0, rows: 12, stride: 8, dram: 0x3000),
            .load(bank: 0, row: 0, rows: 8, stride: 8, dram: 0x2000),
        ]
        for tm in 0..<2 { for tn in 0..<3 { expected.append(.gemm(a: 4 * tm, b: 4 * tn, k: 4, c: 2 * (3 * tm + tn))) } }
        for tn in 0..<3 { expected.append(.store(row: 2 * tn, rows: 2, stride: 24, dram: 0x4000 + UInt64(8 * tn))) }
        for tn in 0..<3 { expected.append(.store(row: 6 + 2 * tn, rows: 1, stride: 24, dram: 0x4030 + UInt64(8 * tn))) }
        expected.append(.finish)
        #expect(g.program == expected)
        #expect((g.programBase, g.outputBase, g.window) == (0x1000, 0x4000, 0x1000..<0x5000))
        #expect(g.program[0].words == [0x24, 0])
        #expect(g.program[1].words == [0x0000_0800_0C00_0011, 0x3000])
        #expect(g.program[2].words == [0x0000_0800_0800_0001, 0x2000])
        #expect(g.program[8].words == [0x0000_0800_0400_0403, 0xA])
        #expect(g.program[10].words == [0x0000_1800_0200_0222, 0x4008])
        #expect(g.program[12].words == [0x0000_1800_0100_0622, 0x4030])
        #expect(g.program[15].words == [5, 0])
    }
}

@Suite struct AcceleratorOverlapTests {
    /// Bank C holds only 32 tiles of this 2×16 array, so the program stores and refills it
    /// while earlier STOREs still move data in the background: GEMMs must not overwrite rows a
    /// STORE has not read yet. And A does not fit whole, so its groups alternate between the
    /// halves of bank A with the next LOAD running under the current GEMMs.
    @Test func bankReuseUnderBackgroundTransfers() throws {
        let c = AcceleratorConfig(array: ArrayConfig(rows: 2, cols: 16), scratchpadKiB: 4, outputKiB: 1)
        #expect(c.depth(.c) / 2 == 32 && c.depth(.a) == 1024 && c.depth(.b) == 128)
        let (a, b) = randomGEMM(c.array, m: 2 * 19, k: 60, n: 16 * 2, seed: 44)
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 30, bytesPerCycle: 8, backpressure: 0.3, seed: 8),
                                       initialState: .random(seed: 9))
        let g = try GEMMProgram(a: a, b: b, config: c)
        let stores = g.program.enumerated().filter { if case .store = $0.element { true } else { false } }.map(\.offset)
        let gemms = g.program.enumerated().filter { if case .gemm = $0.element { true } else { false } }.map(\.offset)
        #expect(gemms.contains { $0 > stores.first! }, "no GEMM after a STORE: the bank is never reused")
        let (status, got) = try runGEMM(host, g)
        #expect(status.done && !status.error)
        var golden = model(c.array)
        #expect(got.elements == golden.gemm(a: a, b: b).c.elements)
    }
}
