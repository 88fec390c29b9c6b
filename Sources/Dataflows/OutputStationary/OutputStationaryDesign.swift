import Conv
import Cores
import Cosim
import HDL
import Runtime

extension Dataflow {
    /// Output stationary: partial sums stay in the PEs; the systolic array of docs/SYSTOLIC.md
    /// fed the layer's im2col matrix.
    public static let os = Dataflow(rawValue: "os")
}

/// The output-stationary design: the systolic array adds nothing to the shared fields; a layer
/// runs on it with its event counters on.
public struct OutputStationaryDesign: Hashable, Sendable, Encodable {
    public var array: ArrayConfig

    public init(_ array: ArrayConfig) {
        self.array = array
        self.array.counters = true
    }

    enum CodingKeys: String, CodingKey { case dataflow }

    /// Flat: the dataflow, then the systolic array's fields.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Dataflow.os, forKey: .dataflow)
        try array.encode(to: encoder)
    }
}

extension OutputStationaryDesign: DataflowDesign {
    public var dataflow: Dataflow { .os }
    public func validate() throws {
        try DataflowEntry.outputStationary.capabilities.check(array, dataflow: .os)
        try OutputStationaryMapper(config: array).validateDesign()
    }
    public func module() throws -> ModuleDefinition {
        try validate()
        return try Systolic.module(array)
    }
    public var manifestFigures: [String: Int] { array.manifestFigures }
    public func mapper() -> any DataflowMapper { OutputStationaryMapper(config: array) }
    public func engine(initialState: InitialState, backend: SimulatorBackend) throws -> any ConvEngine {
        try OutputStationaryEngine(config: array, initialState: initialState, backend: backend)
    }
}

extension DataflowEntry {
    static let outputStationary = DataflowEntry(
        dataflow: .os, title: "output stationary", core: "pe-array-os", documentation: "docs/CONV.md",
        sides: Systolic.sizes, storage: [],
        capabilities: DataflowCapabilities(formats: DataflowCapabilities.everyFormat, dynamicShift: true, thresholdOutput: true, pipelining: true,
                                           networkFormats: DataflowCapabilities.everyFormat),
        design: { array, _ in OutputStationaryDesign(array) })
}
