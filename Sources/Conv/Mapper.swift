import Cores
import Model

/// Maps a convolution layer onto a PE array with one dataflow, folding it when the layer is
/// larger than the array, and counts its events analytically (docs/CONV.md).
public protocol DataflowMapper: Sendable {
    /// Refuses a layer the array cannot run, naming the flag, the value and what is allowed.
    func validate(_ shape: ConvShape) throws
    /// Events of the whole layer. With `input`, zero activations are gated exactly as the
    /// hardware gates them; without it, the layer is taken as dense.
    func counts(_ shape: ConvShape, input: [Int]?) -> DataMovement
    /// Cycles the hardware takes for the layer, first input to last output.
    func cycles(_ shape: ConvShape) -> Int
}
