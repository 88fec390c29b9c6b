import Cosim
import Cores
import Foundation
import Golden
import HDL

/// The host-side driver of docs/SYSTOLIC.md: owns one simulation of an array, kept running
/// across GEMMs (the LFSRs carry on, as in hardware). It streams and decodes; comparing with
/// the golden model is Verification's `GEMMCheck`.
public final class SystolicHarness {
    public let config: ArrayConfig
    public let sim: any CycleSimulator
    let io: Systolic.Interface
    let fa: FixedFormat, fb: FixedFormat

    /// `backend` runs the array in Verilator (the default) or in process (small arrays, fast tests).
    public init(_ config: ArrayConfig, record: Bool = true, initialState: InitialState = .default,
                backend: SimulatorBackend = .verilator) throws {
        self.config = config
        io = Systolic.Interface(config)
        let top = try Systolic.module(config)
        sim = try backend.start(top, record: record, initialState: initialState)
        fa = config.a.golden
        fb = config.b.golden
        try reset()
        // The shift is an input held by the host: start at D, the static array's shift.
        if io.shift != nil { try load(shift: config.dropBits) }
    }

    deinit { sim.close() }

    /// Holds `rst` for `cycles` edges, at any point of a run: the array starts over
    /// (accumulators, FIFO, and the LFSRs from their seeds).
    public func reset(cycles: Int = 1) throws {
        sim[Port.reset] = 1
        try sim.step(cycles)
        sim[Port.reset] = 0
    }

    /// Starts C = A·B and abandons it after `cycles` cycles, operands and results still in
    /// flight (for tests that reset in the middle of a GEMM).
    public func abandon(a: Matrix<Int128>, b: Matrix<Int128>, after cycles: Int) throws {
        _ = try deliver(a: a, b: b, thresholds: config.thresholds ? Array(repeating: Threshold(0), count: b.cols) : nil,
                        requantization: config.requantize != nil ? Array(repeating: Requantization(bias: 0, multiplier: 1, shift: 0), count: b.cols) : nil,
                        maxCycles: cycles)
    }

    /// Packs `values` (`width`-bit two's-complement fields, element 0 lowest) into 64-bit words.
    public static func pack(_ values: [Int128], width: Int, into out: inout [UInt64]) {
        pack(values.count, width: width, into: &out) { values[$0] }
    }

    /// Packs fields `value(0)`, `value(1)`, ... `value(count - 1)` the same way, without
    /// building an array per beat (a 32×32 GEMM streams hundreds of thousands of beats).
    @inline(__always)
    public static func pack(_ count: Int, width: Int, into out: inout [UInt64], _ value: (Int) -> Int128) {
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        var word: UInt64 = 0, used = 0
        for i in 0..<count {
            let bits = UInt64(truncatingIfNeeded: value(i)) & mask
            word |= bits << UInt64(used)
            used += width
            if used >= 64 {
                out.append(word)
                used -= 64
                word = used > 0 ? bits >> UInt64(width - used) : 0
            }
        }
        if used > 0 { out.append(word) }
    }

    /// Packs fields of up to 128 bits (a requantizer's entries) the same way, field 0 lowest.
    static func packWide(_ count: Int, width: Int, into out: inout [UInt64], _ value: (Int) -> UInt128) {
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: (count * width + 63) / 64))
        for i in 0..<count {
            let bits = value(i)
            for k in 0..<width where (bits >> k) & 1 == 1 {
                let at = i * width + k
                out[base + at / 64] |= 1 << UInt64(at % 64)
            }
        }
    }

    public static func field(_ words: ArraySlice<UInt64>, at: Int, width: Int, signed: Bool) -> Int128 {
        let base = words.startIndex
        var bits = words[base + at / 64] >> (at % 64)
        if at % 64 + width > 64 { bits |= words[base + at / 64 + 1] << (64 - at % 64) }
        if width < 64 { bits &= (UInt64(1) << width) - 1 }
        let v = Int128(bits)
        return signed && (bits >> (width - 1)) & 1 == 1 ? v - (Int128(1) << width) : v
    }

    /// What the array delivered for one GEMM: C (entries never delivered stay 0), framing
    /// problems (missing rows, a wrong `c_last`) and the stream's timing.
    public struct Delivery {
        public let result: StreamResult
        public let c: Matrix<Int128>
        public let problems: [String]
        /// The simulation cycle each row of C was delivered in (nil: never delivered).
        public let rowCycles: [Int?]
        /// From the first beat accepted to the last row delivered, inclusive.
        public var cycles: Int { (result.lastDeliveryCycle ?? result.cycles) - (result.firstAcceptCycle ?? 0) + 1 }
    }

    /// Sets a dynamic-shift array's ROUND shift (0...dropBits) for the GEMMs that follow.
    public func load(shift: Int) throws {
        guard let port = io.shift else { preconditionFailure("the array has no dynamic shift") }
        try sim.poke(port, Int128(shift))
    }

    /// Loads a codebook array's weight table (integers of the weight format, entry 0 first) on
    /// its `codebook` port, where it stays for every GEMM until the next load.
    public func load(codebook: [Int128]) throws {
        guard let port = io.codebook else { preconditionFailure("\(config.format) has no codebook") }
        var words: [UInt64] = []
        Self.pack(codebook, width: config.b.bits, into: &words)
        try sim.poke(port.name, words: words)
    }

    /// Streams C = A·B (A: m×k, B: k×n, codes of the operand formats: integers for fixed point) through the array in the
    /// tiling order of docs/SYSTOLIC.md and decodes every row it delivers; no comparison.
    /// With thresholds (a binary array's `thresholds`), `thresholds[n]` is output column n's,
    /// sent with every beat of its tiles.
    /// With requantization, `requantization[n]` is output column n's `{s, M, b}`, likewise.
    public func deliver(a: Matrix<Int128>, b: Matrix<Int128>, thresholds: [Threshold]? = nil, requantization: [Requantization]? = nil,
                        ready: ReadyPattern = .always, maxCycles: Int? = nil) throws -> Delivery {
        let (R, C) = (config.rows, config.cols)
        precondition(config.thresholds == (thresholds != nil), "thresholds go with an array built for them")
        precondition(thresholds.map { $0.count == b.cols } ?? true, "one threshold per column of B")
        precondition((config.requantize != nil) == (requantization != nil), "requantization goes with an array built for it")
        precondition(requantization.map { $0.count == b.cols } ?? true, "one requantization per column of B")
        let m = a.rows, k = a.cols, n = b.cols
        let tilesM = (m + R - 1) / R, tilesN = (n + C - 1) / C
        let wa = config.aCode.width, wb = config.bCode.width
        // A beat is A's column p of a tile row, the last flag, B's row p of a tile column (and
        // the thresholds): each packed once, then copied into every tile's beats (A's words are
        // the same for every tile of a row, B's for every tile of a column).
        var packedA: [UInt64] = [], packedB: [UInt64] = [], packedT: [UInt64] = []
        packedA.reserveCapacity(tilesM * k * ((R * wa + 63) / 64))
        for tm in 0..<tilesM {
            let rows = min(R, m - tm * R)
            for p in 0..<k { Self.pack(R, width: wa, into: &packedA) { i in i < rows ? a[tm * R + i, p] : 0 } }
        }
        packedB.reserveCapacity(tilesN * k * ((C * wb + 63) / 64))
        for tn in 0..<tilesN {
            let cols = min(C, n - tn * C)
            for p in 0..<k { Self.pack(C, width: wb, into: &packedB) { j in j < cols ? b[p, tn * C + j] : 0 } }
            if let thresholds {
                let t = config.thresholdBits
                let cols = min(C, n - tn * C)
                Self.pack(C, width: t, into: &packedT) { j in
                    guard j < cols else { return 0 }
                    let th = thresholds[tn * C + j]
                    return (th.flip ? Int128(1) << (t - 1) : 0) | (th.value & ((Int128(1) << (t - 1)) - 1))
                }
            }
            if let requantization, let r = config.requantizer {
                // {s, M, b}: the bias (accumulator-wide two's complement) lowest.
                let (wb, wm) = (r.input.width, r.multiplierBits)
                Self.packWide(C, width: r.entryBits, into: &packedT) { j in
                    guard j < cols else { return 0 }
                    let q = requantization[tn * C + j]
                    return UInt128(q.shift) << (wb + wm) | UInt128(q.multiplier) << wb | UInt128(truncatingIfNeeded: q.bias) & ((1 << wb) - 1)
                }
            }
        }
        let sideBits = thresholds != nil ? C * config.thresholdBits : requantization != nil ? C * config.requantizer!.entryBits : 0
        let (aWords, bWords, tWords) = ((R * wa + 63) / 64, (C * wb + 63) / 64, (sideBits + 63) / 64)
        let beatWords = aWords + 1 + bWords + tWords
        let beats = [UInt64](unsafeUninitializedCapacity: tilesM * tilesN * k * beatWords) { out, count in
            var o = 0
            for tm in 0..<tilesM {
                for tn in 0..<tilesN {
                    for p in 0..<k {
                        for w in 0..<aWords { out[o + w] = packedA[(tm * k + p) * aWords + w] }
                        out[o + aWords] = p == k - 1 ? 1 : 0
                        for w in 0..<bWords { out[o + aWords + 1 + w] = packedB[(tn * k + p) * bWords + w] }
                        for w in 0..<tWords { out[o + aWords + 1 + bWords + w] = packedT[tn * tWords + w] }
                        o += beatWords
                    }
                }
            }
            count = o
        }
        let tiles = tilesM * tilesN
        // A and B are one joined stream to the simulator: a beat is A's payload then B's.
        let input = StreamInput(valid: [io.a.valid.name, io.b.valid.name], ready: [io.a.ready!.name, io.b.ready!.name],
                                data: (io.a.payload + io.b.payload).map(\.port.name) + (io.tData.map { [$0.name] } ?? []) + (io.rqData.map { [$0.name] } ?? []), beats: beats)
        let output = StreamOutput(valid: io.c.valid.name, ready: io.c.ready!.name, data: io.c.payload.map(\.port.name), readyPattern: ready)
        let result = try sim.stream(inputs: [input], output: output, expectBeats: tiles * R,
                                    maxCycles: maxCycles ?? 4 * config.expectedCycles(m: m, n: n, k: k) + 10_000, hold: [Port.reset.name: 0])
        var problems: [String] = []
        if !result.complete && maxCycles == nil {
            problems.append("only \(result.deliveredBeats) of \(tiles * R) rows of C were delivered within \(result.cycles) cycles")
        }
        var c = Matrix<Int128>(rows: m, cols: n, repeating: 0)
        var rowCycles = [Int?](repeating: nil, count: m * tilesN)
        for beat in 0..<result.deliveredBeats {
            let words = result.beat(beat)
            let tile = beat / R, row = beat % R
            let tm = tile / tilesN, tn = tile % tilesN
            // Each port of a beat starts a new 64-bit word: c_last follows c_data's words.
            let wo = config.outputCode.width
            let last = words[words.startIndex + (C * wo + 63) / 64] & 1
            if last != (row == R - 1 ? 1 : 0) {
                problems.append("tile \(tile), row \(row): c_last is \(last), expected \(row == R - 1 ? 1 : 0) (cycle \(result.deliveryCycles[beat]))")
            }
            let i = tm * R + row
            guard i < m else { continue }
            rowCycles[i * tilesN + tn] = result.startCycle + result.deliveryCycles[beat]
            for j in 0..<C where tn * C + j < n {
                c[i, tn * C + j] = Self.field(words, at: j * wo, width: wo, signed: config.outputCode.isSigned)
            }
        }
        return Delivery(result: result, c: c, problems: problems, rowCycles: rowCycles)
    }

    /// Uniformly random integers over a format's whole range.
    public static func random(rows: Int, cols: Int, _ f: FixedFormat, _ g: inout SplitMix64) -> Matrix<Int128> {
        Matrix(rows: rows, cols: cols) { _, _ in Int128.random(in: f.minInt...f.maxInt, using: &g) }
    }

    /// Extremes: rows of A at the minimum and maximum meet columns of B at the minimum and
    /// maximum (the products saturate C at both ends), zero rows, and an exact rounding tie
    /// above an even and above an odd quotient when bits are dropped.
    public func cornerCase(m: Int, k: Int, n: Int, seed: UInt64) -> (Matrix<Int128>, Matrix<Int128>) {
        var g = SplitMix64(seed: seed)
        var a = Self.random(rows: m, cols: k, fa, &g)
        var b = Self.random(rows: k, cols: n, fb, &g)
        let d = config.dropBits
        let half = d > 0 ? Int128(1) << (d - 1) : 1
        for p in 0..<k {
            if m > 0 { a[0, p] = fa.minInt }
            if m > 1 { a[1, p] = fa.maxInt }
            if m > 2 { a[2, p] = 0 }
            if m > 3 { a[3, p] = p == 0 ? 1 : 0 }
            if n > 0 { b[p, 0] = fb.minInt }
            if n > 1 { b[p, 1] = fb.maxInt }
            if n > 2 { b[p, 2] = p == 0 ? min(half, fb.maxInt) : 0 }      // tie above an even quotient
            if n > 3 { b[p, 3] = p == 0 ? min(3 * half, fb.maxInt) : 0 }  // tie above an odd quotient
        }
        return (a, b)
    }
}
