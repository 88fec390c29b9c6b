import Cores
import HDL

/// A whole accelerator (docs/ACCELERATOR.md): the systolic array, three scratchpad banks, a DMA
/// engine on an AXI4 manager port, a controller that runs a program from DRAM, and AXI4-Lite
/// registers. The array is always built with a dynamic shift, so a program sets it (CONFIG).
public struct AcceleratorConfig: Hashable, Sendable, Codable {
    public static let sides = 1...64
    public static let scratchpadKiBRange = 1...1024
    public static let outputKiBRange = 1...1024
    public static let dataWidths = [64, 128]
    public static let addressWidths = [32, 64]
    /// Tiles whose output rows may be outstanding at once (the output bank's address queue).
    public static let tilesInFlight = 4
    /// Instructions one fetch brings into the instruction buffer (a power of two).
    public static let instructionBuffer = 16
    /// Rows buffered between the output bank and the AXI write channel.
    public static let storeQueueRows = 4

    public var array: ArrayConfig
    /// KiB of the A and B banks together (half each).
    public var scratchpadKiB: Int
    /// KiB of the output bank.
    public var outputKiB: Int
    public var dataBits: Int
    public var addressBits: Int

    public init(array: ArrayConfig = ArrayConfig(), scratchpadKiB: Int = 16, outputKiB: Int = 4, dataBits: Int = 64, addressBits: Int = 32) {
        var a = array
        a.dynamicShift = true
        self.array = a
        self.scratchpadKiB = scratchpadKiB
        self.outputKiB = outputKiB
        self.dataBits = dataBits
        self.addressBits = addressBits
    }

    public var beatBytes: Int { dataBits / 8 }

    /// The three banks: their row width (one beat of the array's stream) and depth.
    public enum Bank: Int, CaseIterable, Sendable, Codable { case a = 0, b = 1, c = 2 }

    public func rowBits(_ bank: Bank) -> Int {
        switch bank {
        case .a: array.rows * array.aCode.width
        case .b: array.cols * array.bCode.width
        case .c: array.cols * array.outputCode.width
        }
    }

    /// Rows of a bank: the largest power of two that fits its share of the KiB.
    public func depth(_ bank: Bank) -> Int {
        let share = bank == .c ? outputKiB * 8192 : scratchpadKiB * 4096
        var d = 1
        while d * 2 * rowBits(bank) <= share { d *= 2 }
        return d
    }

    /// Beats of one bank row in DRAM (rows are padded to whole beats).
    public func rowBeats(_ bank: Bank) -> Int { (rowBits(bank) + dataBits - 1) / dataBits }
    public func rowBytes(_ bank: Bank) -> Int { rowBeats(bank) * beatBytes }

    /// Beats of one 16-byte instruction.
    public var instructionBeats: Int { ISA.instructionBytes / beatBytes }

    public var moduleName: String {
        "accel_\(array.rows)x\(array.cols)_\(array.a.tag)_\(array.b.tag)_\(array.output.tag)_\(array.rounding)\(array.format.tag)_sp\(scratchpadKiB)k_out\(outputKiB)k_d\(dataBits)_a\(addressBits)"
    }

    public func validate() throws {
        try require(Self.sides.contains(array.rows), "rows", array.rows, "\(Self.sides.lowerBound)...\(Self.sides.upperBound)")
        try require(Self.sides.contains(array.cols), "cols", array.cols, "\(Self.sides.lowerBound)...\(Self.sides.upperBound)")
        try require(!array.thresholds, "threshold-output", true, "off (the accelerator's ROUND path is needed; threshold outputs are later work)")
        if case .codebook = array.format { try require(false, "format", array.format, "every format but codebook (CONFIG of a codebook table is later work)") }
        try array.validate()
        try require(Self.dataWidths.contains(dataBits), "data-bits", dataBits, "64 or 128")
        try require(Self.addressWidths.contains(addressBits), "address-bits", addressBits, "32 or 64")
        try require(Self.scratchpadKiBRange.contains(scratchpadKiB), "scratchpad-kib", scratchpadKiB, "\(Self.scratchpadKiBRange.lowerBound)...\(Self.scratchpadKiBRange.upperBound)")
        try require(Self.outputKiBRange.contains(outputKiB), "output-kib", outputKiB, "\(Self.outputKiBRange.lowerBound)...\(Self.outputKiBRange.upperBound)")
        for bank in [Bank.a, .b] {
            try require(depth(bank) >= 2, "scratchpad-kib", scratchpadKiB, "enough for two rows of \(rowBits(bank)) bits in each of the A and B banks")
        }
        try require(depth(.c) >= array.rows && depth(.c) >= 2, "output-kib", outputKiB,
                    "enough for one tile's \(array.rows) rows of \(rowBits(.c)) bits (at least \((max(2, array.rows) * rowBits(.c) + 8191) / 8192) KiB)")
        try require(depth(.a) <= 65536 && depth(.b) <= 65536 && depth(.c) <= 65536, "scratchpad-kib", scratchpadKiB, "at most 65536 rows per bank")
    }

    /// What the hardware-configuration registers report, and the manifest.
    public var manifestFigures: [String: Int] {
        array.manifestFigures.merging([
            "bankARows": depth(.a), "bankBRows": depth(.b), "bankCRows": depth(.c),
            "bankARowBits": rowBits(.a), "bankBRowBits": rowBits(.b), "bankCRowBits": rowBits(.c),
            "bankARowBytesInDRAM": rowBytes(.a), "bankBRowBytesInDRAM": rowBytes(.b), "bankCRowBytesInDRAM": rowBytes(.c),
            "instructionBytes": ISA.instructionBytes, "tilesInFlight": Self.tilesInFlight,
        ]) { a, _ in a }
    }
}
