/// Golden model of the R×C output-stationary systolic array of docs/SYSTOLIC.md, as the host
/// driver sees it: a GEMM goes in, rounded C (and the raw accumulators) come out.
///
/// It models results, not cycles. What it must get exactly right is state that survives a tile:
/// the accumulators (per tile, padded with zeros, wrapped to `accBits`) and the LFSR of each
/// column's ROUND unit, which advances once (a step or a leap) per row of every tile, padded
/// rows and columns included. One instance is the hardware after reset; `gemm` may be called repeatedly for
/// back-to-back GEMMs and the LFSRs carry on, as they do in the array.
public struct SystolicModel: Sendable {
    /// R: PE rows, i.e. rows of C per tile.
    public let rows: Int
    /// C: PE columns, i.e. columns of C per tile, and the number of ROUND units.
    public let cols: Int
    public let formatA: FixedFormat
    public let formatB: FixedFormat
    public let accBits: Int
    /// `<accBits, FLa + FLb>`, signed if A or B is signed.
    public let accFormat: FixedFormat
    public let output: FixedFormat
    public let mode: RoundingMode
    /// Used only by `.stochastic`, like the ROUND unit: other modes ignore width and seed.
    public let lfsrWidth: Int
    /// The array-level seed; column j starts from `columnSeed(j:seed:lfsrWidth:)`.
    public let seed: UInt64
    /// How far each column's LFSR advances per rounded value.
    public let draw: LFSRDraw
    /// ROUND unit j, with its own LFSR.
    private var rounders: [RounderModel]

    /// `accBits: nil` takes `defaultAccBits(a:b:)` (maxK = 4096), the array's default.
    public init(rows: Int, cols: Int, a: FixedFormat, b: FixedFormat, accBits: Int? = nil,
                output: FixedFormat, mode: RoundingMode, lfsrWidth: Int, seed: UInt64, draw: LFSRDraw = .leap) {
        precondition(rows >= 1 && cols >= 1, "array \(rows)x\(cols) must be at least 1x1")
        let bits = accBits ?? Self.defaultAccBits(a: a, b: b)
        let mac = MACModel(a: a, b: b, accBits: bits)  // validates accBits, defines the acc format
        self.rows = rows
        self.cols = cols
        formatA = a
        formatB = b
        self.accBits = bits
        accFormat = mac.accFormat
        self.output = output
        self.mode = mode
        self.lfsrWidth = lfsrWidth
        self.seed = seed
        self.draw = draw
        let accFormat = mac.accFormat
        rounders = (0..<cols).map { j in
            RounderModel(input: accFormat, output: output, mode: mode, lfsrWidth: lfsrWidth,
                         seed: mode == .stochastic ? Self.columnSeed(j: j, seed: seed, lfsrWidth: lfsrWidth) : 1, draw: draw)
        }
    }

    /// `WLa + WLb + ceil(log2 maxK)` with the array's default maxK of 4096 (the lone MAC's
    /// default is 1024): enough that no reduction of up to maxK products wraps.
    public static func defaultAccBits(a: FixedFormat, b: FixedFormat, maxK: Int = 4096) -> Int {
        MACModel.defaultAccBits(a: a, b: b, maxK: maxK)
    }

    /// `seed_j = 1 + ((seed - 1 + 7919·j) mod (2^w - 1))`: a seed in `[1, 2^w - 1]` for every
    /// column, distinct while C <= 2^w - 1 (7919 is prime and no 2^w - 1 with w <= 32 has it as
    /// a factor), so the columns do not round in lockstep.
    public static func columnSeed(j: Int, seed: UInt64, lfsrWidth: Int) -> UInt64 {
        precondition(LFSRModel.widths.contains(lfsrWidth), "LFSR width \(lfsrWidth) is outside \(LFSRModel.widths)")
        precondition(j >= 0, "column \(j) must be >= 0")
        let period = (UInt64(1) << lfsrWidth) - 1
        precondition(seed >= 1 && seed <= period, "seed \(seed) is outside 1...\(period)")
        // Reduce each term first so nothing overflows for any j (period < 2^32).
        let step = (7919 % period) * (UInt64(j) % period) % period
        return 1 + ((seed - 1) % period + step) % period
    }

    /// The state each column's LFSR will draw from next, or nil unless stochastic.
    public var lfsrStates: [UInt64]? {
        mode == .stochastic ? rounders.map { $0.lfsrState! } : nil
    }

    /// Dynamic fixed point: every ROUND unit drops `shift` bits from now on (nil: D), its
    /// LFSR carrying on.
    public mutating func setShift(_ shift: Int?) {
        for j in rounders.indices { rounders[j].shift = shift }
    }

    /// Back to the state after `rst`: every LFSR reloads its column seed.
    public mutating func reset() {
        for j in rounders.indices { rounders[j].clock(valid: false, x: 0, reset: true) }
    }

    /// Number of tiles of an M×N result: `ceil(M/R)·ceil(N/C)`.
    public func tileCount(m: Int, n: Int) -> Int {
        ((m + rows - 1) / rows) * ((n + cols - 1) / cols)
    }

    /// Runs an M×K by K×N GEMM through the array, in the driver's order:
    /// `for tm { for tn { K beats } }`, rows and columns past the edge sent as zeros.
    ///
    /// Per tile, PE (i, j) starts a new sum on the first beat and holds the wrapped sum of its K
    /// products; then rows 0..R-1 of the tile pass through the ROUND units, unit j taking
    /// column j of each row, so LFSR j advances exactly R times per tile (padding included). Only
    /// entries inside the matrix are returned. Entries of A and B must lie in their formats,
    /// and K must be at least 1 (a tile is delimited by its last beat).
    ///
    /// - Returns: `c`, the rounded outputs as integers of `output`, and `acc`, the raw
    ///   accumulators as integers of `accFormat`; both M×N.
    public mutating func gemm(a: Matrix<Int128>, b: Matrix<Int128>) -> (c: Matrix<Int128>, acc: Matrix<Int128>) {
        precondition(a.cols == b.rows, "inner dimensions differ: \(a.rows)x\(a.cols) times \(b.rows)x\(b.cols)")
        precondition(a.cols >= 1, "K must be >= 1")
        precondition(a.elements.allSatisfy(formatA.contains), "an entry of A is outside \(formatA)")
        precondition(b.elements.allSatisfy(formatB.contains), "an entry of B is outside \(formatB)")
        let m = a.rows, k = a.cols, n = b.cols
        let tilesM = (m + rows - 1) / rows, tilesN = (n + cols - 1) / cols
        var c = Matrix<Int128>(rows: m, cols: n, repeating: 0)
        var acc = Matrix<Int128>(rows: m, cols: n, repeating: 0)

        // The K beats of a tile, as the driver sends them: beat k carries column k of the A
        // tile and row k of the B tile, zero past the matrix edge.
        let bTiles = (0..<tilesN).map { tn in
            Matrix<Int128>(rows: k, cols: cols) { p, j in tn * cols + j < n ? b[p, tn * cols + j] : 0 }
        }
        for tm in 0..<tilesM {
            let aTile = Matrix<Int128>(rows: rows, cols: k) { i, p in tm * rows + i < m ? a[tm * rows + i, p] : 0 }
            for tn in 0..<tilesN {
                let tileAcc = GEMMModel.multiply(a: aTile, b: bTiles[tn], accBits: accBits, signed: accFormat.isSigned)
                for i in 0..<rows {
                    for j in 0..<cols {
                        let x = tileAcc[i, j]
                        rounders[j].clock(valid: true, x: x)
                        let row = tm * rows + i, col = tn * cols + j
                        if row < m && col < n {
                            c[row, col] = rounders[j].out
                            acc[row, col] = x
                        }
                    }
                }
            }
        }
        return (c, acc)
    }
}

extension SystolicModel {
    /// Cycles from the first beat accepted to the last row of C delivered, inclusive, for an M×K
    /// by K×N GEMM with data always offered and C always taken (docs/SYSTOLIC.md, Timing): the
    /// last beat of the last of T tiles is accepted in cycle `(K - 1) + (T - 1)·max(K, R)` and its
    /// last row delivered `2R + C + 2` cycles later, plus one cycle for each pipeline stage of
    /// the PEs (`peStages`) and of the ROUND units (`roundStages`).
    public static func cycles(rows: Int, cols: Int, m: Int, n: Int, k: Int, peStages: Int = 0, roundStages: Int = 0) -> Int {
        let tiles = ((m + rows - 1) / rows) * ((n + cols - 1) / cols)
        let lastBeat = (k - 1) + (tiles - 1) * max(k, rows)
        return lastBeat + 2 * rows + cols + 2 + peStages + roundStages + 1
    }
}
