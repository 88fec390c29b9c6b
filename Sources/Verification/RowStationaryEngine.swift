import Conv
import Cores
import Golden

// Placeholder until the RowStationary dataflow lands.
public struct RowStationaryEngine: ConvEngine {
    public let config: PEArrayConfig
    public init(config: PEArrayConfig) throws { self.config = config }
    public func run(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvRun { fatalError("RowStationary engine not built yet") }
}
