import Accelerator
import Cores
import Golden

/// Compiles C = A·B (codes of the array's formats) for an accelerator into a program and a DRAM
/// image (docs/ACCELERATOR.md, Compiler). Tiles run in the order of docs/SYSTOLIC.md
/// (`for tm { for tn }`), so the LFSRs draw as in the golden model; the program starts with a
/// CONFIG that sets the shift and restarts the LFSRs from their seeds.
public struct GEMMProgram: Sendable {
    public let program: [ISA.Instruction]
    /// Regions to write into DRAM before the run: (address, bytes).
    public let image: [(address: UInt64, bytes: [UInt8])]
    public let programBase: UInt64
    public let outputBase: UInt64
    /// The DRAM window the program needs: everything above, nothing else.
    public let window: Range<UInt64>
    public let m: Int, n: Int, k: Int
    let outputRowStride: Int

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    public init(a: Matrix<Int128>, b: Matrix<Int128>, config c: AcceleratorConfig, shift: Int? = nil, base: UInt64 = 0x1000) throws {
        let (R, C) = (c.array.rows, c.array.cols)
        let (m, k, n) = (a.rows, a.cols, b.cols)
        precondition(a.cols == b.rows && k >= 1 && m >= 1 && n >= 1, "A is \(a.rows)x\(a.cols), B \(b.rows)x\(b.cols)")
        let (dA, dB, dC) = (c.depth(.a), c.depth(.b), c.depth(.c))
        guard k <= dA && k <= dB && k <= 65535 else {
            throw Refusal(description: "GEMM \(m)x\(k)x\(n) does not fit: K = \(k) needs \(k) rows in banks A and B, which have \(dA) and \(dB) (--scratchpad-kib \(c.scratchpadKiB); splitting K is later work)")
        }
        let tilesM = (m + R - 1) / R, tilesN = (n + C - 1) / C
        let (rowA, rowB, rowC) = (c.rowBytes(.a), c.rowBytes(.b), c.rowBytes(.c))
        func align(_ x: UInt64) -> UInt64 { (x + 4095) / 4096 * 4096 }
        // Layout: program, A (tile row tm: K rows of R codes), B (tile column tn: K rows of C
        // codes), C (row-major, each output row tilesN chunks of one bank-C row).
        let programBytes = UInt64(16 * (4 + tilesM * (2 + 3 * tilesN) + tilesN))
        let aBase = align(base + programBytes)
        let bBase = align(aBase + UInt64(tilesM * k * rowA))
        let cBase = align(bBase + UInt64(tilesN * k * rowB))
        let cStride = tilesN * rowC
        let end = align(cBase + UInt64(m * cStride))

        func pack(_ count: Int, width: Int, bytes: Int, _ value: (Int) -> Int128) -> [UInt8] {
            var words: [UInt64] = []
            SystolicHarness.pack(count, width: width, into: &words, value)
            var out = words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
            out += [UInt8](repeating: 0, count: max(0, bytes - out.count))
            return Array(out.prefix(bytes))
        }
        var aImage: [UInt8] = [], bImage: [UInt8] = []
        for tm in 0..<tilesM {
            for p in 0..<k { aImage += pack(R, width: c.array.aCode.width, bytes: rowA) { i in tm * R + i < m ? a[tm * R + i, p] : 0 } }
        }
        for tn in 0..<tilesN {
            for p in 0..<k { bImage += pack(C, width: c.array.bCode.width, bytes: rowB) { j in tn * C + j < n ? b[p, tn * C + j] : 0 } }
        }

        // Schedule: B resident if all its tiles fit, else loaded per tile row in groups; A in
        // groups of tile rows; bank C filled with tiles, then stored.
        var p: [ISA.Instruction] = [.config(shift: shift, reseed: true)]
        let bAll = tilesN * k <= dB, aAll = tilesM * k <= dA
        let aGroup = aAll ? tilesM : max(1, (dA >= 2 * k ? dA / 2 : dA) / k), bGroup = max(1, min(tilesN, dB / k))
        let slots = dC / R
        var stored: [(slot: Int, tm: Int, tn: Int)] = []
        func flush() {
            for t in stored {
                let rows = min(R, m - t.tm * R)
                p.append(.store(row: t.slot * R, rows: rows, stride: cStride, dram: cBase + UInt64(t.tm * R * cStride + t.tn * rowC)))
            }
            stored = []
        }
        func gemm(_ tm: Int, _ tn: Int, aRow: Int, bRow: Int) {
            if stored.count == slots { flush() }
            let slot = stored.count
            p.append(.gemm(a: aRow, b: bRow, k: k, c: slot * R))
            stored.append((slot, tm, tn))
        }
        if bAll { p.append(.load(bank: 1, row: 0, rows: tilesN * k, stride: rowB, dram: bBase)) }
        // A in groups of tile rows; when A does not fit whole and half of bank A holds a tile
        // row, the groups alternate between the halves and the next group's LOAD goes before
        // the current group's GEMMs, so it runs while they compute (LOAD runs in the background).
        let doubleBuffer = !aAll && dA / 2 >= k
        let groups = Array(stride(from: 0, to: tilesM, by: aGroup))
        func loadA(_ gi: Int) {
            let tm0 = groups[gi], g = min(aGroup, tilesM - tm0)
            p.append(.load(bank: 0, row: aOffset(gi), rows: g * k, stride: rowA, dram: aBase + UInt64(tm0 * k * rowA)))
        }
        func aOffset(_ gi: Int) -> Int { doubleBuffer ? (gi % 2) * (dA / 2) : 0 }
        loadA(0)
        for (gi, tm0) in groups.enumerated() {
            if gi + 1 < groups.count && doubleBuffer { loadA(gi + 1) }
            if gi > 0 && !doubleBuffer { loadA(gi) }
            for tm in tm0..<min(tm0 + aGroup, tilesM) {
                let aRow = aOffset(gi) + (tm - tm0) * k
                if bAll {
                    for tn in 0..<tilesN { gemm(tm, tn, aRow: aRow, bRow: tn * k) }
                } else {
                    for tn0 in stride(from: 0, to: tilesN, by: bGroup) {
                        let h = min(bGroup, tilesN - tn0)
                        p.append(.load(bank: 1, row: 0, rows: h * k, stride: rowB, dram: bBase + UInt64(tn0 * k * rowB)))
                        for tn in tn0..<tn0 + h { gemm(tm, tn, aRow: aRow, bRow: (tn - tn0) * k) }
                    }
                }
            }
        }
        flush()
        p.append(.finish)
        precondition(UInt64(16 * p.count) <= aBase - base, "program larger than its region")

        program = p
        image = [(base, ISA.bytes(p)), (aBase, aImage), (bBase, bImage)]
        programBase = base
        outputBase = cBase
        window = base..<end
        (self.m, self.n, self.k) = (m, n, k)
        outputRowStride = cStride
    }

    /// C as the accelerator left it in DRAM (codes of the output format).
    public func output(from dram: AXIDRAM, config c: AcceleratorConfig) -> Matrix<Int128> {
        let C = c.array.cols, wo = c.array.outputCode.width, rowC = c.rowBytes(.c)
        return Matrix(rows: m, cols: n) { i, j in
            let bytes = dram.read(rowC, at: outputBase + UInt64(i * outputRowStride + (j / C) * rowC))
            var words = [UInt64](repeating: 0, count: (bytes.count + 7) / 8)
            for (x, byte) in bytes.enumerated() { words[x / 8] |= UInt64(byte) << (8 * UInt64(x % 8)) }
            return SystolicHarness.field(words[...], at: (j % C) * wo, width: wo, signed: c.array.outputCode.isSigned)
        }
    }
}
