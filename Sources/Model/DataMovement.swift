/// Events of one layer on one PE array, in words (each of its own width) and operations.
/// The hardware counts them with counters; the mapper derives them analytically; tests
/// require the two to agree (docs/CONV.md defines each field per dataflow).
public struct DataMovement: Hashable, Sendable, Codable {
    /// Multiplies performed, and multiplies skipped by zero gating.
    public var macs = 0
    public var gatedMACs = 0
    /// Register-file (PE-local storage) reads and writes.
    public var registerFileReads = 0
    public var registerFileWrites = 0
    /// Words moved between neighbouring PEs.
    public var peToPE = 0
    /// Global-buffer reads and writes.
    public var bufferReads = 0
    public var bufferWrites = 0
    /// Off-array (DRAM) reads and writes.
    public var dramReads = 0
    public var dramWrites = 0

    public init(macs: Int = 0, gatedMACs: Int = 0, registerFileReads: Int = 0, registerFileWrites: Int = 0,
                peToPE: Int = 0, bufferReads: Int = 0, bufferWrites: Int = 0, dramReads: Int = 0, dramWrites: Int = 0) {
        self.macs = macs
        self.gatedMACs = gatedMACs
        self.registerFileReads = registerFileReads
        self.registerFileWrites = registerFileWrites
        self.peToPE = peToPE
        self.bufferReads = bufferReads
        self.bufferWrites = bufferWrites
        self.dramReads = dramReads
        self.dramWrites = dramWrites
    }

    public static func + (a: DataMovement, b: DataMovement) -> DataMovement {
        DataMovement(macs: a.macs + b.macs, gatedMACs: a.gatedMACs + b.gatedMACs,
                     registerFileReads: a.registerFileReads + b.registerFileReads,
                     registerFileWrites: a.registerFileWrites + b.registerFileWrites,
                     peToPE: a.peToPE + b.peToPE, bufferReads: a.bufferReads + b.bufferReads,
                     bufferWrites: a.bufferWrites + b.bufferWrites, dramReads: a.dramReads + b.dramReads,
                     dramWrites: a.dramWrites + b.dramWrites)
    }

    /// The events between two readings of the same counters.
    public static func - (a: DataMovement, b: DataMovement) -> DataMovement {
        DataMovement(macs: a.macs - b.macs, gatedMACs: a.gatedMACs - b.gatedMACs,
                     registerFileReads: a.registerFileReads - b.registerFileReads,
                     registerFileWrites: a.registerFileWrites - b.registerFileWrites,
                     peToPE: a.peToPE - b.peToPE, bufferReads: a.bufferReads - b.bufferReads,
                     bufferWrites: a.bufferWrites - b.bufferWrites, dramReads: a.dramReads - b.dramReads,
                     dramWrites: a.dramWrites - b.dramWrites)
    }
}
