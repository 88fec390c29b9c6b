/// The FPGA a design is placed and routed on (docs/TIMING.md). Only Lattice ECP5 (LFE5U) parts,
/// which the open flow (yosys `synth_ecp5`, nextpnr-ecp5) supports, in the CABGA381 package that
/// every size offers.
public struct Device: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Thousands of LUTs: 25, 45 or 85 (nextpnr's `--25k`, `--45k`, `--85k`).
    public var size: Int
    public var package: String
    /// Speed grade: 6 (slowest), 7 or 8.
    public var speed: Int

    public static let sizes = [25, 45, 85]
    public static let speeds = 6...8

    public init(size: Int = 85, package: String = "CABGA381", speed: Int = 6) {
        self.size = size
        self.package = package
        self.speed = speed
    }

    /// LFE5U-85F, CABGA381, speed grade 6.
    public static let ecp5 = Device()

    /// "LFE5U-85F-6 CABGA381".
    public var description: String { "LFE5U-\(size)F-\(speed) \(package)" }

    /// MULT18X18D blocks of the part (as nextpnr-ecp5 counts them in its utilisation report).
    public var multipliers: Int {
        switch size {
        case 25: 28
        case 45: 72
        default: 156
        }
    }

    public var nextpnrArguments: [String] {
        ["--\(size)k", "--package", package, "--speed", String(speed)]
    }

    /// What `--pnr` accepts.
    public static let allowed = "ecp5 (LFE5U-85F, speed 6), or ecp5-<25k|45k|85k>[-<6|7|8>] (e.g. ecp5-85k-8)"

    /// `ecp5`, `ecp5-45k`, `ecp5-85k-8`; nil for anything else.
    public static func parse(_ text: String) -> Device? {
        let parts = text.lowercased().split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "ecp5", parts.count <= 3 else { return nil }
        var d = Device.ecp5
        if parts.count >= 2 {
            guard parts[1].hasSuffix("k"), let k = Int(parts[1].dropLast()), sizes.contains(k) else { return nil }
            d.size = k
        }
        if parts.count == 3 {
            guard let s = Int(parts[2]), speeds.contains(s) else { return nil }
            d.speed = s
        }
        return d
    }

    /// The form `parse` reads back: `ecp5-85k-6`.
    public var flagValue: String { "ecp5-\(size)k-\(speed)" }
}
