import Foundation
import Model
import Networks

/// An imported float model on the project's integer network: post-training quantization
/// (`Quantizer.quantize`, Ristretto's fractional lengths on calibration images) and the float
/// reference classes the quantized network is measured against.
///
/// Input values. The project's integer networks take byte images as pixels p/255 in [0, 1]
/// (`QuantizedNetwork.inputFrac`); an ONNX model takes whatever its training used: the model
/// zoo's MNIST network takes the bytes themselves (0–255). The model's input is
/// `inputScale · byte` (1 by default), so the factor `255 · inputScale` between the two is
/// folded into the first layer's weights (exact in real numbers: zero padding scales to zero).
extension ImportedNetwork {
    /// The float parameters for inputs p/255 (byte p) that give what `parameters` give for
    /// inputs `inputScale · p`.
    public func pixelParameters(inputScale: Float) -> FloatParameters {
        var p = parameters
        // In Double, so that a scale of Float(1/255) gives a factor of exactly 1.
        let factor = Float(255 * Double(inputScale))
        p.layers[0].weights = p.layers[0].weights.map { $0 * factor }
        return p
    }

    /// Post-training quantization to `scheme` on `calibration` (bytes, as the model's inputs
    /// before the scale). Refused: the BNN, which needs batch norm trained in (fine-tuning).
    public func quantized(_ scheme: QuantizationScheme, inputScale: Float, calibration: LabeledImages) throws -> QuantizedNetwork {
        if scheme == .binary { throw ONNXError("a BNN (binary) is trained with batch norm from the float weights; an imported model is quantized after training only") }
        guard calibration.shape == spec.input else { throw ONNXError("calibration images are \(calibration.shape), the model takes \(spec.input)") }
        do {
            return try Quantizer.quantize(spec: spec, parameters: pixelParameters(inputScale: inputScale), scheme: scheme, calibration: calibration)
        } catch let e as NetworkError {
            throw ONNXError(e.description)
        }
    }

    /// The float model's class for each byte image (input `inputScale · byte`): the index of
    /// the largest output, the lowest on a tie, from the project's float forward pass of the
    /// imported network (checked against the interpreter and onnxruntime in the tests).
    /// Chunks of images run on all cores.
    public func floatClasses(bytes: [UInt8], inputScale: Float) throws -> [Int] {
        let size = spec.input.count
        let spec = spec, parameters = parameters
        return try concurrentChunks(bytes.count / size, chunk: 200) { range in
            let input = bytes[range.lowerBound * size..<range.upperBound * size].map { Float($0) * inputScale }
            let logits = try FloatInference.logits(spec, parameters: parameters, input: input, batch: range.count)
            let classes = logits.count / range.count
            return (0..<range.count).map { i in argmax(logits[i * classes..<(i + 1) * classes]) }
        }
    }

    /// How each node was mapped and how each stage is quantized (`simulate network --onnx-report`):
    /// the import's line per node, then per stage the formats, scales and roundings, and where
    /// they differ from ONNX's.
    public func report(_ network: QuantizedNetwork, inputScale: Float, rounding: RoundingMode, calibration: String) -> [String] {
        let scale = inputScale == 1 ? "bytes 0-255 as they are (input scale 1, the ONNX model zoo's MNIST convention; --input-scale changes it)"
            : "bytes 0-255 times \(inputScale) (--input-scale)"
        var lines = ["input '\(inputName)' \(spec.input): \(scale)", "", "nodes (\(mapping.count)):"]
        lines += mapping.map { "  \($0)" }
        if softmaxOnHost { lines.append("  (the final Softmax runs on the host; the class is the largest value before it)") }
        lines += ["", "stages (\(network.label), post-training quantization on \(calibration); scales are powers of two, one per tensor):"]
        lines += Self.stageLines(network, rounding: rounding)
        lines += [
            "",
            "rounding against the model: the ONNX model is float32 and rounds nothing; here",
            "  input codes round(p/255 · 2^\(network.inputFrac)) half up (the model's \(255 * inputScale)x folded into layer 0's weights),",
            "  weights and biases round half up (ONNX's QuantizeLinear would round half to even), saturating;",
            "  the array's ROUND unit \(rounding == .nearest ? "rounds to nearest, ties to even" : rounding == .stochastic ? "rounds stochastically (LFSR bits)" : "truncates (toward -inf)"), saturating to 16 bits;",
            "  ReLU and max pooling are exact; an average pools as (sum + n/2) >> log2 n (half up).",
        ]
        return lines
    }

    /// Each stage's layer, formats, scales, shift and ROUND mode, three lines a stage.
    public static func stageLines(_ network: QuantizedNetwork, rounding: RoundingMode) -> [String] {
        var lines: [String] = []
        func fmt(_ bits: Int, _ frac: Int) -> String { "s\(bits), frac \(frac) (scale 2^\(-frac))" }
        for (s, stage) in network.stages.enumerated() {
            let l = stage.layer
            let kind = l.filterHeight == 1 && l.height == 1 && l.width == 1 ? "dense \(l.channels)->\(l.filters)"
                : "conv \(l.filterHeight)x\(l.filterWidth)x\(l.channels)->\(l.filters), stride \(l.stride), padding \(l.padding) (zero codes)"
            var after: [String] = []
            if stage.relu { after.append("relu") }
            if let p = stage.pool {
                let dropped = l.outHeight % p.size + l.outWidth % p.size > 0 ? ", the \(l.outHeight % p.size) last rows and \(l.outWidth % p.size) last columns dropped as ONNX's floor" : ""
                after.append("\(p.kind.rawValue) pool \(p.size)x\(p.size)\(dropped)")
            }
            lines.append("  \(s): \(kind)" + (after.isEmpty ? "" : ", " + after.joined(separator: ", ")))
            if let r = stage.requantization {
                let shifts = r.map(\.shift), multipliers = r.map(\.multiplier)
                lines.append("     int\(stage.activation.bits) activations and int\(stage.weight.bits) weights (codes; the scales live in the requantization)")
                lines.append("     array sums exact, requantized per channel to s\(stage.outputBits): (sum + b)·M >> s, half to even, M \(multipliers.min()!)…\(multipliers.max()!), s \(shifts.min()!)…\(shifts.max()!); the output zero point \(Set(stage.bias).sorted().map(String.init).joined(separator: ", ")) added, results s\(stage.resultBits)")
                continue
            }
            lines.append("     format \(stage.format); activations \(fmt(stage.activation.bits, stage.activation.frac)); weights \(fmt(stage.weight.bits, stage.weight.frac)), per tensor")
            lines.append("     array sums exact, ROUND drops \(stage.shift) bits (\(rounding)) to \(fmt(stage.outputBits, stage.outputFrac)); bias at that scale; results \(stage.resultBits == stage.outputBits ? "kept at 16 bits (the logits)" : fmt(stage.resultBits, stage.outputFrac))")
        }
        return lines
    }
}
