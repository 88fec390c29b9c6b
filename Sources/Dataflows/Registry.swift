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

/// What the registry knows about one dataflow: its name, its documentation, and how to make its
/// design from the shared fields.
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
}
