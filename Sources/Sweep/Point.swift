import Conv
import Cores
import Dataflows
import Foundation
import Model
import Timing

/// What every point of a sub-grid runs: the fixed GEMM workload on the systolic array, the
/// fixed convolution workload on a PE array of the point's dataflow, or a whole network
/// (LeNet-5 or the MLP on Fashion-MNIST, quantized in the point's format) on systolic arrays
/// and pooling cores (docs/SWEEP.md, "Networks").
public enum WorkloadKind: String, Hashable, Sendable, Codable, CaseIterable {
    case gemm, conv, lenet5, mlp

    /// A network preset (`NetworkSpec.preset(rawValue)`), not a fixed GEMM or convolution workload.
    public var isNetwork: Bool { self == .lenet5 || self == .mlp }
}

/// What a network point runs besides its design: the float weights it quantizes (a hash of the
/// weights file, so results made from other weights are not reused), how many test images its
/// golden network classifies for the accuracy, and how many of them the hardware co-simulates.
public struct NetworkRunSpec: Hashable, Sendable, Codable {
    public var weights: String
    public var accuracyImages: Int
    public var hardwareImages: Int

    public init(weights: String, accuracyImages: Int, hardwareImages: Int) {
        self.weights = weights
        self.accuracyImages = accuracyImages
        self.hardwareImages = hardwareImages
    }
}

/// One configuration of a sweep: a design plus the dataflow and workload it runs.
public struct SweepPoint: Hashable, Sendable, Codable {
    /// Position in the plan (0-based); stable for a given grid.
    public var index: Int
    /// The dataflow: `os` for the GEMM workload; `os`, `ws` or `rs` for the convolution workload.
    public var dataflow: Dataflow
    /// The design fields every dataflow shares (array size, formats, rounding, LFSR); a
    /// convolution point's design comes from it and the dataflow registry (`design(for:)`).
    public var config: ArrayConfig
    public var workload: WorkloadKind
    /// Network points only: the weights and image counts (nil otherwise, and not written).
    /// A network point's `config` is the array size, rounding, LFSR and number format; the
    /// arrays it builds come from the quantized network (`NetworkHardware.arrays(for:)`).
    public var network: NetworkRunSpec?

    public init(index: Int, dataflow: Dataflow = .os, config: ArrayConfig, workload: WorkloadKind = .gemm,
                network: NetworkRunSpec? = nil) {
        self.index = index
        self.dataflow = dataflow
        self.config = config
        self.workload = workload
        self.network = network
    }

    /// A network point's quantization: `fixed<N>` at the design's input bits, else the format's name.
    public var schemeName: String {
        config.format == .fixed ? "fixed\(config.a.bits)" : config.format.description
    }

    /// A short, file-name-safe key that identifies the configuration (not the index), so a
    /// rerun of a changed grid never mixes up results: e.g. `os-8x8-s8f6-s8f2-stochastic`;
    /// convolution points start with `conv-` (`conv-ws-8x8-...`), so they never collide;
    /// stochastic points whose LFSR steps once per output end in `-lfsr-one`, and a number
    /// format other than fixed point ends it (`os-8x8-s8f6-s8f0-stochastic-bwn`), then the
    /// pipelining options that are on (`-pp1`, `-rp1`).
    public var key: String {
        let c = config
        if workload.isNetwork {
            // lenet5-16x16-fixed8-nearest (another dataflow than os: lenet5-ws-16x16-...): the
            // formats of its arrays follow from the scheme.
            var k = "\(workload.rawValue)\(dataflow == .os ? "" : "-\(dataflow)")-\(c.rows)x\(c.cols)-\(schemeName)-\(c.rounding)"
            if c.rounding == .stochastic && c.lfsrStep != .leap { k += "-lfsr-\(c.lfsrStep)" }
            return k
        }
        var design = "\(dataflow)-\(c.rows)x\(c.cols)-\(c.a.signed ? "s" : "u")\(c.a.bits)f\(c.a.frac)-\(c.output.signed ? "s" : "u")\(c.output.bits)f\(c.output.frac)-\(c.rounding)"
        if c.rounding == .stochastic && c.lfsrStep != .leap { design += "-lfsr-\(c.lfsrStep)" }
        if c.format != .fixed { design += "-\(c.format)" }
        if c.pePipeline > 0 { design += "-pp\(c.pePipeline)" }
        if c.roundPipeline > 0 { design += "-rp\(c.roundPipeline)" }
        return workload == .gemm ? design : "\(workload.rawValue)-\(design)"
    }

    enum CodingKeys: String, CodingKey { case index, dataflow, config, workload, network }

    // `workload` is written only for convolution points, so GEMM points (and plans) read and
    // write exactly the files they did before the field existed.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decode(Int.self, forKey: .index)
        dataflow = try c.decode(Dataflow.self, forKey: .dataflow)
        config = try c.decode(ArrayConfig.self, forKey: .config)
        workload = try c.decodeIfPresent(WorkloadKind.self, forKey: .workload) ?? .gemm
        network = try c.decodeIfPresent(NetworkRunSpec.self, forKey: .network)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(dataflow, forKey: .dataflow)
        try c.encode(config, forKey: .config)
        if workload != .gemm { try c.encode(workload, forKey: .workload) }
        try c.encodeIfPresent(network, forKey: .network)
    }
}

/// Figures from yosys for one design. Counts are for the whole design (every instance).
public struct SynthesisMetrics: Hashable, Sendable, Codable {
    /// Cells after the generic `synth`.
    public var genericCells: Int
    /// `synth_xilinx` figures: LUTs of every size, flip-flops, DSP48 slices, block RAMs.
    public var luts: Int
    public var flipFlops: Int
    public var dsp48: Int
    public var bram: Int
    /// Longest combinational path, in gates of the generic netlist between registers (yosys
    /// `ltp -noff`, per module, maximum over modules; docs/ENERGY.md).
    public var logicDepth: Int
    public var seconds: Double
    /// LUTs used as shift registers (SRL16E/SRLC32E) or distributed RAM, not counted in `luts`.
    public var lutsAsMemory: Int?
    /// Every `synth_xilinx` primitive with its count for the whole design (CARRY4, SRL16E, ...).
    public var xilinxCells: [String: Int]?
    /// True when the figures came from the synthesis cache (`seconds` is then the original run's).
    public var cached: Bool?
    /// LUTs and flip-flops of one ROUND unit (its LFSR included), i.e. per output column.
    public var unitLUTs: Int?
    public var unitFlipFlops: Int?
    /// LUTs, flip-flops and DSP48s of one PE, its module synthesized alone.
    public var peLUTs: Int?
    public var peFlipFlops: Int?
    public var peDSP48: Int?

    public init(genericCells: Int, luts: Int, flipFlops: Int, dsp48: Int, bram: Int, logicDepth: Int, seconds: Double,
                lutsAsMemory: Int? = nil, xilinxCells: [String: Int]? = nil, cached: Bool? = nil) {
        self.genericCells = genericCells
        self.luts = luts
        self.flipFlops = flipFlops
        self.dsp48 = dsp48
        self.bram = bram
        self.logicDepth = logicDepth
        self.seconds = seconds
        self.lutsAsMemory = lutsAsMemory
        self.xilinxCells = xilinxCells
        self.cached = cached
    }
}

/// What running one point produced. A failed point records its error and still counts as done.
public struct PointResult: Hashable, Sendable, Codable {
    public enum Status: String, Sendable, Codable { case pass, fail, error }

    public var point: SweepPoint
    public var status: Status
    /// The error that stopped the point (status `error`), or the first mismatch (status `fail`).
    public var message: String?
    public var mismatches: Int
    /// Over the fixed workload: total cycles, MACs, utilization = MACs / (cycles·R·C).
    public var cycles: Int
    public var macs: Int
    public var utilization: Double
    public var simulatedMACsPerSecond: Double
    /// Rounded outputs against the exact real product.
    public var rmse: Double
    public var maxAbsError: Double
    public var bias: Double
    /// nil when there is no error at all.
    public var sqnrDB: Double?
    public var synthesis: SynthesisMetrics?
    public var energy: EnergyEstimate?
    public var generateSeconds: Double
    public var buildSeconds: Double
    public var simulateSeconds: Double
    /// Convolution points only (nil otherwise, and not written): multiplies the array
    /// performed and skipped by zero gating, as its counters report them, and whether every
    /// hardware count equals the mapper's analytic count.
    public var performedMACs: Int?
    public var gatedMACs: Int?
    public var countsAgree: Bool?
    /// Network points only (nil otherwise): accuracy, energy and cycles per image, the arrays'
    /// code widths (docs/SWEEP.md, "Networks").
    public var network: NetworkMetrics?
    /// `--pnr`: place and route of the point's design (docs/TIMING.md); nil without it.
    public var pnr: PlaceAndRouteMetrics?

    public init(point: SweepPoint, status: Status, message: String? = nil, mismatches: Int = 0, cycles: Int = 0,
                macs: Int = 0, utilization: Double = 0, simulatedMACsPerSecond: Double = 0, rmse: Double = 0,
                maxAbsError: Double = 0, bias: Double = 0, sqnrDB: Double? = nil, synthesis: SynthesisMetrics? = nil,
                energy: EnergyEstimate? = nil, generateSeconds: Double = 0, buildSeconds: Double = 0, simulateSeconds: Double = 0) {
        self.point = point
        self.status = status
        self.message = message
        self.mismatches = mismatches
        self.cycles = cycles
        self.macs = macs
        self.utilization = utilization
        self.simulatedMACsPerSecond = simulatedMACsPerSecond
        self.rmse = rmse
        self.maxAbsError = maxAbsError
        self.bias = bias
        self.sqnrDB = sqnrDB
        self.synthesis = synthesis
        self.energy = energy
        self.generateSeconds = generateSeconds
        self.buildSeconds = buildSeconds
        self.simulateSeconds = simulateSeconds
    }
}
