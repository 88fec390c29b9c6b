import Cores
import Golden

// Placeholder until the RowStationary dataflow lands: every call stops.
public struct RowStationaryMapper: DataflowMapper {
    public let config: PEArrayConfig
    public init(config: PEArrayConfig) { self.config = config }
    public func validate(_ shape: ConvShape) throws { fatalError("RowStationary mapper not built yet") }
    public func counts(_ shape: ConvShape, input: [Int]?) -> DataMovement { fatalError("RowStationary mapper not built yet") }
    public func cycles(_ shape: ConvShape) -> Int { fatalError("RowStationary mapper not built yet") }
}
