import Cores
import Model

/// Maps a convolution layer onto a PE array with one dataflow, folding it when the layer is
/// larger than the array, and counts its events analytically (docs/CONV.md).
public protocol DataflowMapper: Sendable {
    /// Refuses a layer the array cannot run, naming the flag, the value and what is allowed.
    func validate(_ shape: ConvShape) throws
    /// Events of the whole layer. With `input`, zero activations are gated exactly as the
    /// hardware gates them, and with `weights` (codes) zero weights of formats that code a
    /// zero (ternary, powers of two); without them, the layer is taken as dense.
    func counts(_ shape: ConvShape, input: [Int]?, weights: [Int]?) -> DataMovement
    /// Cycles the hardware takes for the layer, first input to last output.
    func cycles(_ shape: ConvShape) -> Int
}

extension DataflowMapper {
    /// Counts with zero activations only (dense weights).
    public func counts(_ shape: ConvShape, input: [Int]?) -> DataMovement { counts(shape, input: input, weights: nil) }
}

extension ArrayConfig {
    /// Zero weights of each term, when the array gates them (zero gating on and a format that
    /// codes a zero weight) and `weights` are given; nil otherwise.
    public func gatedWeightsPerTerm(_ s: ConvShape, weights: [Int]?) -> [Int]? {
        guard zeroGating, format.codesZeroWeight, let weights else { return nil }
        return s.zeroWeightsPerTerm(weights) { format.isZeroWeight(code: $0) }
    }

    /// What a layer asks of the arithmetic whatever the dataflow: binary activations have no
    /// zero, so a padded border cannot be coded (a 0 bit is -1).
    public func validate(layer s: ConvShape) throws {
        if thresholds {
            throw ParameterError("threshold-output", true, allowed: "off for convolution layers (thresholds run on GEMMs so far)")
        }
        if format == .binary, s.padding > 0 {
            throw ParameterError("padding", s.padding, allowed: "0 with --format binary (binary activations have no zero to pad with)")
        }
    }
}
