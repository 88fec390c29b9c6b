import Conv
import Cores
import Cosim
import HDL
import Runtime

/// One dataflow's complete design: the shared array fields plus whatever its PEs add. Everything
/// the front ends, the sweep and `generate-rtl` do with a dataflow goes through here, so no code
/// outside the dataflow's folder needs to know which one it holds.
public protocol DataflowDesign: Sendable, Encodable {
    var dataflow: Dataflow { get }
    var array: ArrayConfig { get }
    /// Refuses a design the dataflow cannot build, naming the flag, the value and what is allowed.
    func validate() throws
    /// The array top, with event counters (`count_*` ports).
    func module() throws -> ModuleDefinition
    /// Figures derived from the parameters, for the manifest.
    var manifestFigures: [String: Int] { get }
    /// Counts and cycles of a layer, analytically.
    func mapper() -> any DataflowMapper
    /// Runs layers on the generated array (in Verilator, or in process), every output checked.
    func engine(initialState: InitialState, backend: SimulatorBackend) throws -> any ConvEngine
}

extension DataflowDesign {
    /// The engine on Verilator.
    public func engine(initialState: InitialState) throws -> any ConvEngine {
        try engine(initialState: initialState, backend: .verilator)
    }
}

/// Register-file entries per PE, as the front ends offer them (`--weight-registers`,
/// `--input-registers`, `--psum-registers`); each dataflow reads the ones its PEs have.
public struct PEStorage: Hashable, Sendable, Codable {
    public enum Flag: String, Sendable, CaseIterable {
        case weightRegisters = "weight-registers", inputRegisters = "input-registers", psumRegisters = "psum-registers"
    }

    public var weightRegisters: Int
    public var inputRegisters: Int
    public var psumRegisters: Int

    public init(weightRegisters: Int = 16, inputRegisters: Int = 16, psumRegisters: Int = 16) {
        self.weightRegisters = weightRegisters
        self.inputRegisters = inputRegisters
        self.psumRegisters = psumRegisters
    }
}

/// What a dataflow builds and runs beyond the shared array fields. Every help text, refusal
/// and sweep skip about formats, the dynamic shift, threshold outputs and networks derives
/// from these, so a dataflow that learns a format changes one line.
public struct DataflowCapabilities: Sendable {
    /// Number-format families (`NumberFormat.families` spellings) its generator builds.
    public let formats: [String]
    /// Whether the ROUND shift can be a run-time port (`--dynamic-shift`).
    public let dynamicShift: Bool
    /// Whether it builds threshold units in place of ROUND units (`--threshold-output`).
    public let thresholdOutput: Bool
    /// Whether its PEs and ROUND units take pipeline stages (`--pe-pipeline`, `--round-pipeline`).
    public let pipelining: Bool
    /// Format families of the whole networks it runs (`simulate network`, the sweep's network
    /// workloads): a network needs more than a layer does (a codebook table loaded per layer,
    /// thresholds per output channel), so this can be narrower than `formats`.
    public let networkFormats: [String]

    /// Every format family.
    public static let everyFormat = NumberFormat.names

    /// `formats` as the command line spells them (shorthands included).
    public static func spelled(_ families: [String]) -> String {
        families == everyFormat ? NumberFormat.allowed() : NumberFormat.allowed(except: Set(everyFormat).subtracting(families))
    }

    /// Refuses what `array` asks of `dataflow` beyond these, naming the flag and what is allowed.
    func check(_ array: ArrayConfig, dataflow: Dataflow) throws {
        try require(formats.contains(array.format.family), "format", array.format,
                    "\(Self.spelled(formats)) with --dataflow \(dataflow) (\(Dataflows.offering(\.formats, array.format.family)) build \(array.format))")
        if array.dynamicShift, !dynamicShift {
            try require(false, "dynamic-shift", true, "off with --dataflow \(dataflow) (built for \(Dataflows.offering { $0.dynamicShift }))")
        }
        if array.thresholds, !thresholdOutput {
            try require(false, "threshold-output", true, "off with --dataflow \(dataflow) (built for \(Dataflows.offering { $0.thresholdOutput }))")
        }
        if !pipelining {
            let built = "with --dataflow \(dataflow) (pipelining is built for \(Dataflows.offering { $0.pipelining }))"
            try require(array.pePipeline == 0, "pe-pipeline", array.pePipeline, "0 \(built)")
            try require(array.roundPipeline == 0, "round-pipeline", array.roundPipeline, "0 \(built)")
        }
    }
}

/// What the registry knows about one dataflow: its name, its documentation, what it can do, and
/// how to make its design from the shared fields.
public struct DataflowEntry: Sendable {
    public let dataflow: Dataflow
    /// "weight stationary": for help texts and reports.
    public let title: String
    /// The core name `generate-rtl` writes into the manifest.
    public let core: String
    /// Where the dataflow is documented.
    public let documentation: String
    /// Array sides it builds.
    public let sides: ClosedRange<Int>
    /// The `--*-registers` flags it reads, with what it allows: for help texts.
    public let storage: [(flag: PEStorage.Flag, allowed: String)]
    public let capabilities: DataflowCapabilities
    public let design: @Sendable (ArrayConfig, PEStorage) -> any DataflowDesign
}

/// Every dataflow the project builds. Adding one: a folder beside these with its design,
/// generator, mapper and engine, and one line here (docs/ARCHITECTURE.md, "Adding a dataflow").
public enum Dataflows {
    public static let all: [DataflowEntry] = [.outputStationary, .weightStationary, .rowStationary]

    public static func entry(_ dataflow: Dataflow) -> DataflowEntry? {
        all.first { $0.dataflow == dataflow }
    }

    /// `dataflow`'s design for `array` and `storage`; nil for a name no dataflow has.
    public static func design(_ dataflow: Dataflow, _ array: ArrayConfig, storage: PEStorage = PEStorage()) -> (any DataflowDesign)? {
        entry(dataflow)?.design(array, storage)
    }

    /// "os | ws | rs", for help texts and refusals.
    public static var names: String { all.map(\.dataflow.rawValue).joined(separator: " | ") }

    /// The dataflows with a capability, for refusals and help texts: "os and ws".
    public static func offering(_ has: (DataflowCapabilities) -> Bool) -> String {
        spelled(all.filter { has($0.capabilities) }.map(\.dataflow.rawValue))
    }

    /// The dataflows whose `list` holds `family`: "os and ws".
    static func offering(_ list: KeyPath<DataflowCapabilities, [String]>, _ family: String) -> String {
        offering { $0[keyPath: list].contains(family) }
    }

    /// Per dataflow, the format families of `list`, for help texts:
    /// "os: every format; ws: fixed, bwn, ternary, pow2e<2..4>; rs: fixed".
    public static func formatsByDataflow(_ list: KeyPath<DataflowCapabilities, [String]>) -> String {
        all.map { e in
            let families = e.capabilities[keyPath: list]
            return "\(e.dataflow): " + (families == DataflowCapabilities.everyFormat ? "every format" : families.joined(separator: ", "))
        }.joined(separator: "; ")
    }

    /// Refuses a network in `format` (spelled `name`) on `dataflow`, naming `--format` and what
    /// the dataflow runs; `spelling` writes a list of families as the command spells networks.
    public static func checkNetwork(format: NumberFormat, spelled name: String, on dataflow: Dataflow,
                                    spelling: ([String]) -> String = DataflowCapabilities.spelled) throws {
        guard let e = entry(dataflow) else { throw ParameterError("dataflow", dataflow, allowed: names) }
        let allowed = e.capabilities.networkFormats
        try require(allowed.contains(format.family), "format", name,
                    "\(spelling(allowed)) with --dataflow \(dataflow) (networks in \(format.family) run on \(offering(\.networkFormats, format.family)))")
    }

    /// "os", "os and ws", "os, ws and rs".
    static func spelled(_ items: [String]) -> String {
        items.count <= 1 ? items.first ?? "none" : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
