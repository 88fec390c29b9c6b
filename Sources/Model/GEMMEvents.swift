/// Events of one M×K by K×N GEMM on the output-stationary systolic array, counted from the
/// tiling order and the array's structure (docs/SYSTOLIC.md; docs/ENERGY.md defines each).
/// Word counts; each word has its own width (A: operand a, B: operand b, accumulator,
/// rounded output), which `EnergyModel.estimate(_:usefulMACs:)` applies.
///
/// A record beside `DataMovement`, not merged into it: `DataMovement` is what the PE arrays'
/// counters count and the mappers predict, field by field (its fields are also `simulate
/// conv`'s JSON), and the convolution energy costs each of its words as one operand-width
/// word. The GEMM energy prices every word at its own width and reports finer components
/// (accumulator against skew registers, operand hops against result read-out, ROUND), which
/// would need per-width counts the counters do not have. Both are priced by the one
/// `EnergyModel`, with the same price for each event class.
public struct GEMMEvents: Hashable, Sendable, Codable {
    public var tiles: Int
    /// tiles·R·C·K: every PE multiplies and accumulates on every beat, padding included.
    public var macs: Int
    /// Accumulator register updates (accBits), one per MAC, plus the R·C result captures
    /// per tile.
    public var accumulatorWrites: Int
    /// Operand words (A: wa bits, B: wb bits) written into the input registers and skew
    /// lines: per beat R + R(R-1)/2 of A and C + C(C-1)/2 of B.
    public var skewWritesA: Int
    public var skewWritesB: Int
    /// Operand words passed from PE to PE (a_q, b_q): per beat R·C of each (every PE
    /// registers its operands for its east and south neighbours).
    public var hopsA: Int
    public var hopsB: Int
    /// Results (accBits) read out: each of a tile's R·C results moves once, from its PE's
    /// `res_q` through the column's read-out multiplexer into the column's output register.
    public var readouts: Int
    /// ROUND operations: R·C per tile (padding included; R draws per tile per LFSR).
    public var rounds: Int
    /// Rounded words (wo bits) through the deskew registers: per tile R·C(C-1)/2.
    public var deskewWrites: Int
    /// Input buffer reads, words: every beat reads R A-words and C B-words (padding
    /// included).
    public var bufferReadsA: Int
    public var bufferReadsB: Int
    /// Input buffer writes (filled from DRAM) equal the DRAM reads.
    /// Output FIFO: every rounded row written once and read once (R·C words per tile, each).
    public var fifoWords: Int
    /// DRAM words: A read once (its R-row panel stays in the buffer while the tile row
    /// runs), B read once per tile row (ceil(M/R) times), C written once.
    public var dramReadsA: Int
    public var dramReadsB: Int
    public var dramWritesC: Int

    /// The events of an M×K by K×N GEMM on an R×C array.
    public init(rows R: Int, cols C: Int, m: Int, n: Int, k: Int) {
        precondition(m > 0 && n > 0 && k > 0, "GEMM dimensions must be positive")
        let tileRows = (m + R - 1) / R, tileCols = (n + C - 1) / C
        tiles = tileRows * tileCols
        let beats = tiles * k
        macs = tiles * R * C * k
        accumulatorWrites = macs + tiles * R * C
        skewWritesA = beats * (R + R * (R - 1) / 2)
        skewWritesB = beats * (C + C * (C - 1) / 2)
        hopsA = beats * R * C
        hopsB = beats * R * C
        readouts = tiles * R * C
        rounds = tiles * R * C
        deskewWrites = tiles * R * C * (C - 1) / 2
        bufferReadsA = beats * R
        bufferReadsB = beats * C
        fifoWords = tiles * R * C
        dramReadsA = m * k
        dramReadsB = tileRows * k * n
        dramWritesC = m * n
    }
}
