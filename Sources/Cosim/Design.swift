import Foundation

/// One top-level port of a design.
public struct PortSpec: Hashable, Sendable, Codable {
    public enum Direction: String, Sendable, Codable {
        case input, output
    }

    public let name: String
    public let width: Int
    public let direction: Direction

    public init(name: String, width: Int, direction: Direction) {
        self.name = name
        self.width = width
        self.direction = direction
    }

    public static func input(_ name: String, _ width: Int = 1) -> PortSpec {
        PortSpec(name: name, width: width, direction: .input)
    }

    public static func output(_ name: String, _ width: Int = 1) -> PortSpec {
        PortSpec(name: name, width: width, direction: .output)
    }

    /// Number of 64-bit words a value of this port takes (least significant first).
    public var words: Int { (width + 63) / 64 }
}

/// Verilog sources plus the top module's port list.
public struct CosimDesign: Hashable, Sendable {
    /// Top module name.
    public var top: String
    /// File name (e.g. "mac.v") -> Verilog text. `.v`/`.sv` files are compiled;
    /// other files (e.g. `.vh`) are only made available to `` `include``.
    public var sources: [String: String]
    /// Top-level ports, exactly as declared by the top module.
    public var ports: [PortSpec]
    /// The input driven by `step`/`run` (rising then falling edge). Default "clk";
    /// a design without such an input is combinational: only poke/eval/peek.
    public var clock: String

    public init(top: String, sources: [String: String], ports: [PortSpec], clock: String = "clk") {
        self.top = top
        self.sources = sources
        self.ports = ports
        self.clock = clock
    }

    /// The clock port, if the design has one.
    public var clockPort: PortSpec? {
        ports.first { $0.name == clock && $0.direction == .input }
    }

    /// Checks what can be checked without Verilator.
    public func validate() throws {
        func fail(_ message: String) -> CosimError { .invalidDesign(top: top, message: message) }
        guard Self.isIdentifier(top) else { throw fail("top module name `\(top)` is not a Verilog identifier") }
        guard !sources.isEmpty else { throw fail("no Verilog sources") }
        guard sources.keys.contains(where: { Self.isCompiledSource($0) }) else {
            throw fail("no .v or .sv file among the sources (\(sources.keys.sorted().joined(separator: ", ")))")
        }
        for name in sources.keys {
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), !name.contains("\0") else {
                throw fail("source file name `\(name)` must be a plain file name")
            }
        }
        var seen = Set<String>()
        for p in ports {
            guard Self.isIdentifier(p.name) else { throw fail("port name `\(p.name)` is not a Verilog identifier") }
            guard seen.insert(p.name).inserted else { throw fail("port `\(p.name)` is listed twice") }
            guard p.width >= 1 && p.width <= 65536 else { throw fail("port `\(p.name)` has width \(p.width)") }
        }
        guard ports.count < Int(UInt16.max) else { throw fail("too many ports") }
        if let c = ports.first(where: { $0.name == clock }) {
            guard c.direction == .input, c.width == 1 else {
                throw fail("clock `\(clock)` must be a 1-bit input")
            }
        }
    }

    static func isCompiledSource(_ name: String) -> Bool {
        name.hasSuffix(".v") || name.hasSuffix(".sv")
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.utf8.count <= 1024 else { return false }
        func letter(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" }
        guard letter(first) else { return false }
        return s.unicodeScalars.allSatisfy { letter($0) || ($0 >= "0" && $0 <= "9") || $0 == "$" }
    }
}

/// How a model is built.
/// What registers and memories hold before the first clock edge. Real silicon and other
/// simulators do not start at zero, so co-simulation starts from random values by default.
public enum InitialState: Hashable, Sendable, CustomStringConvertible {
    /// Every bit zero (Verilator's classic behaviour).
    case zero
    /// Every register and memory word random, from Verilator's generator seeded with `seed`
    /// (`+verilator+rand+reset+2`, `+verilator+seed+<seed>`); the same seed gives the same state.
    case random(seed: UInt32)

    /// `$ACCELGEN_INIT` (`zero` or a seed), else random with seed 1.
    public static var `default`: InitialState {
        let env = ProcessInfo.processInfo.environment["ACCELGEN_INIT"] ?? ""
        if env == "zero" { return .zero }
        if let seed = UInt32(env), seed > 0 { return .random(seed: seed) }
        return .random(seed: 1)
    }

    /// The driver's command-line arguments.
    var driverArguments: [String] {
        switch self {
        case .zero: return ["--init", "zero"]
        case .random(let seed): return ["--init", String(min(max(seed, 1), 0x7fff_ffff))]
        }
    }

    public var description: String {
        switch self {
        case .zero: return "zero"
        case .random(let seed): return "random (seed \(seed))"
        }
    }
}

public struct BuildOptions: Hashable, Sendable {
    /// Build with `--trace` so the driver can write a VCD waveform.
    public var trace: Bool = false
    /// Compile the model with -O1 (default). Measured on a 16×16 systolic array: the same
    /// instructions per cycle as -O2 (16.9k vs 16.8k) and 3× quicker to build (13× on the
    /// largest file of a 32×32 array). `false` compiles with -O0: slower simulation.
    public var optimize: Bool = true
    /// Extra `verilator` arguments, after the usual ones (part of the cache key). The fuzzer
    /// turns off the optimisations Verilator 5.006 gets wrong (Fuzz/Batch.swift).
    public var verilatorFlags: [String] = []
    /// A C++ program of its own (with `main`) instead of the co-simulation driver, as a path in
    /// the Testbench folder (e.g. `reference/ref_os_loop.cpp`); the headers beside it come
    /// along. Such a model does not speak the protocol: run its executable directly (the bare
    /// loops of `make bench`). Nil: the driver, Testbench/cosim_driver.cpp.
    public var program: String? = nil

    public init(trace: Bool = false, optimize: Bool = true, verilatorFlags: [String] = [], program: String? = nil) {
        self.trace = trace
        self.optimize = optimize
        self.verilatorFlags = verilatorFlags
        self.program = program
    }
}

/// A compiled simulator for one design, in the build cache.
public struct BuiltModel: Sendable {
    /// The driver executable (speaks the binary protocol of Testbench/cosim_protocol.h).
    public let executable: URL
    /// True when no build was needed: the cache already held this model.
    public let cacheHit: Bool
    /// Wall time this `build` call took (lookup, or lookup plus build).
    public let buildSeconds: Double
    /// The cache key (SHA-256, hex) and the cache entry's folder.
    public let key: String
    public let directory: URL
    public let design: CosimDesign
    public let options: BuildOptions
}
