import Cosim
import Cores
import Foundation
import Golden
import HDL
import Verilog

/// Emits a module hierarchy and describes its top-level ports for Verilator.
public func cosimDesign(_ top: ModuleDefinition) throws -> CosimDesign {
    let files = try VerilogEmitter.emit(top)
    return CosimDesign(
        top: top.name,
        sources: Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, $0.text) }),
        ports: top.ports.map { PortSpec(name: $0.name, width: $0.shape.width, direction: $0.direction == .input ? .input : .output) })
}

/// Where waveforms go: `$ACCELGEN_WAVES` or `.build/waveforms` under the current folder.
public func waveformURL(_ name: String) -> URL {
    let env = ProcessInfo.processInfo.environment["ACCELGEN_WAVES"]
    let dir = URL(fileURLWithPath: env ?? ".build/waveforms", isDirectory: true)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name + ".vcd").standardizedFileURL
}

/// Two's-complement words (least significant first) of `value` in `width` bits.
public func words(_ value: Int128, width: Int) -> [UInt64] {
    let bits = UInt128(truncatingIfNeeded: value)
    let n = (width + 63) / 64
    var out: [UInt64] = []
    for i in 0..<n {
        var w = UInt64(truncatingIfNeeded: bits >> (64 * i))
        let remaining = width - 64 * i
        if remaining < 64 { w &= (UInt64(1) << remaining) - 1 }
        out.append(w)
    }
    return out
}

/// The integer held by `words` read as a `width`-bit signed or unsigned number.
public func value(_ words: ArraySlice<UInt64>, width: Int, signed: Bool) -> Int128 {
    var bits: UInt128 = 0
    for (i, w) in words.enumerated() where i < 2 { bits |= UInt128(w) << (64 * i) }
    if width < 128 { bits &= (UInt128(1) << width) - 1 }
    if signed && width < 128 && (bits >> (width - 1)) & 1 == 1 {
        return Int128(bits) - (Int128(1) << width)
    }
    return Int128(truncatingIfNeeded: bits)
}

extension FixedPoint {
    /// The golden model's view of the same format.
    public var golden: FixedFormat { FixedFormat(wordLength: bits, fracLength: frac, signed: signed) }
}

extension FixedFormat {
    /// A uniformly random integer of the format.
    public func random(using g: inout SplitMix64) -> Int128 {
        Int128.random(in: minInt...maxInt, using: &g)
    }

    /// Extremes a test should always include.
    public var corners: [Int128] {
        Array(Set([minInt, minInt + 1, -1, 0, 1, maxInt - 1, maxInt].filter(contains))).sorted()
    }
}

extension ArrayConfig {
    /// What the codes of A and B stand for (docs/FORMATS.md); a codebook format reads its
    /// entries from `codebook` (integers of `b`, 2^n of them).
    public func operandCodes(codebook: [Int128]? = nil) -> (a: OperandCode, b: OperandCode) {
        let codebook = codebook ?? defaultCodebook
        switch format {
        case .fixed: return (.fixed(a.golden), .fixed(b.golden))
        case .binary: return (.binary, .binary)
        case .binaryWeights: return (.fixed(a.golden), .binary)
        case .ternary: return (.fixed(a.golden), .ternary)
        case .powerOfTwo(let e): return (.fixed(a.golden), .powerOfTwo(exponentBits: e))
        case .codebook(let n):
            precondition(codebook?.count == 1 << n, "a codebook\(n) array needs a table of \(1 << n) entries")
            return (.fixed(a.golden), .codebook(codebook!))
        }
    }

    /// The table a codebook array runs with unless given another (nil for other formats):
    /// 2^n entries drawn uniformly over the weight format from a fixed seed, so the driver and
    /// the golden model agree without passing it around.
    public var defaultCodebook: [Int128]? {
        guard case .codebook(let n) = format else { return nil }
        var g = SplitMix64(seed: 0xC0DE_B00C)
        return (0..<(1 << n)).map { _ in b.golden.random(using: &g) }
    }
}
