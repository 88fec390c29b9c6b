import Conv
import Cores
import Cosim
import HDL
import Runtime

extension Dataflow {
    /// Weight stationary: weights held (double-buffered) in the PEs, activations stream west
    /// to east, partial sums flow north to south.
    public static let ws = Dataflow(rawValue: "ws")
}

/// The weight-stationary array's parameters: the shared ones plus its two storage sizes.
public struct WeightStationaryConfig: ExtendsArrayConfig, Hashable, Sendable, Encodable {
    public var array: ArrayConfig
    /// Weight register entries per PE: the active weight and its shadow use two.
    public var weightRegisters: Int
    /// Depth of each column's psum buffer: output positions per block.
    public var psumRegisters: Int

    /// WS arrays always count events, so `array.counters` is set.
    public init(_ array: ArrayConfig, weightRegisters: Int = 16, psumRegisters: Int = 16) {
        self.array = array
        self.array.counters = true
        self.weightRegisters = weightRegisters
        self.psumRegisters = psumRegisters
    }

    enum CodingKeys: String, CodingKey { case dataflow, weightRegisters, psumRegisters }

    /// Flat: the dataflow, the shared fields, then this array's own.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Dataflow.ws, forKey: .dataflow)
        try array.encode(to: encoder)
        try c.encode(weightRegisters, forKey: .weightRegisters)
        try c.encode(psumRegisters, forKey: .psumRegisters)
    }
}

extension WeightStationaryConfig: DataflowDesign {
    public var dataflow: Dataflow { .ws }
    public func validate() throws { try WeightStationary.validate(self) }
    public func module() throws -> ModuleDefinition { try WeightStationary.module(self) }
    public var manifestFigures: [String: Int] { ["accBits": array.accBits] }
    public func mapper() -> any DataflowMapper { WeightStationaryMapper(config: self) }
    public func engine(initialState: InitialState, backend: SimulatorBackend) throws -> any ConvEngine {
        try WeightStationaryEngine(config: self, initialState: initialState, backend: backend)
    }
}

extension DataflowEntry {
    static let weightStationary = DataflowEntry(
        dataflow: .ws, title: "weight stationary", core: "pe-array-ws", documentation: "docs/dataflows/WS.md",
        sides: WeightStationary.sizes,
        storage: [(.weightRegisters, "\(WeightStationary.weightRegisterRange) (the active weight and its shadow)"),
                  (.psumRegisters, "\(WeightStationary.psumDepths) (the psum buffer of each column)")],
        // A network's codebook would need its table loaded per layer, and its BNN stages
        // threshold units: both are built on os only.
        capabilities: DataflowCapabilities(formats: DataflowCapabilities.everyFormat, dynamicShift: true, thresholdOutput: false, pipelining: false,
                                           networkFormats: ["fixed", "bwn", "ternary", NumberFormat.powerOfTwo(exponentBits: 3).family]),
        design: { WeightStationaryConfig($0, weightRegisters: $1.weightRegisters, psumRegisters: $1.psumRegisters) })
}
