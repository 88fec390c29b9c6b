/// Networks as plain values: the description training reads (`NetworkSpec`) and the integer
/// network the hardware runs (`QuantizedNetwork`). Training and quantization (Networks), the
/// golden integer network (Golden) and the hardware runner (Runtime) all meet here.

/// A tensor's shape, one image: channels × height × width (a vector is C × 1 × 1).
public struct TensorShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int
    public init(channels: Int, height: Int = 1, width: Int = 1) {
        self.channels = channels
        self.height = height
        self.width = width
    }
    public var count: Int { channels * height * width }
    public var description: String { "\(channels)×\(height)×\(width)" }
}

/// One layer of a network description. Pooling windows are square with stride equal to their
/// side; `flatten` keeps CHW order (what a dense layer sees is the NCHW tensor as a vector).
public enum Layer: Hashable, Sendable, Codable {
    case conv(filters: Int, size: Int, stride: Int = 1, padding: Int = 0)
    case dense(outputs: Int)
    case relu
    case maxPool(size: Int)
    case avgPool(size: Int)
    case flatten
}

/// A network: an input shape and its layers in order.
public struct NetworkSpec: Hashable, Sendable, Codable {
    public var name: String
    public var input: TensorShape
    public var layers: [Layer]
    public init(name: String, input: TensorShape, layers: [Layer]) {
        self.name = name
        self.input = input
        self.layers = layers
    }

    /// LeNet-5 as seed 002 gives it (LeCun et al. 1998; the Eyeriss paper's small benchmark):
    /// two 5×5 convolutions of 6 and 16 filters, each followed by ReLU and 2×2 pooling, then
    /// fully connected 120-84-10. On 28×28 Fashion-MNIST without padding the maps are
    /// 24×24, 12×12, 8×8 and 4×4 (256 features into the first dense layer).
    public static let lenet5 = NetworkSpec(name: "lenet5", input: TensorShape(channels: 1, height: 28, width: 28), layers: [
        .conv(filters: 6, size: 5), .relu, .maxPool(size: 2),
        .conv(filters: 16, size: 5), .relu, .maxPool(size: 2),
        .flatten,
        .dense(outputs: 120), .relu,
        .dense(outputs: 84), .relu,
        .dense(outputs: 10),
    ])

    /// A multilayer perceptron 784-256-256-10 with ReLU.
    public static let mlp = NetworkSpec(name: "mlp", input: TensorShape(channels: 1, height: 28, width: 28), layers: [
        .flatten,
        .dense(outputs: 256), .relu,
        .dense(outputs: 256), .relu,
        .dense(outputs: 10),
    ])

    public static let presets: [NetworkSpec] = [.lenet5, .mlp]
    public static func preset(_ name: String) -> NetworkSpec? { presets.first { $0.name == name } }

    /// The shape after each layer (`shapes[i]` is layer i's output).
    public var shapes: [TensorShape] {
        var s = input
        return layers.map { layer in
            switch layer {
            case .conv(let m, let k, let u, let p):
                s = TensorShape(channels: m, height: (s.height + 2 * p - k) / u + 1, width: (s.width + 2 * p - k) / u + 1)
            case .dense(let n):
                s = TensorShape(channels: n)
            case .maxPool(let k), .avgPool(let k):
                s = TensorShape(channels: s.channels, height: s.height / k, width: s.width / k)
            case .flatten:
                s = TensorShape(channels: s.count)
            case .relu:
                break
            }
            return s
        }
    }
}

/// The integer network the hardware runs: one stage per convolution or dense layer, each one
/// array layer followed by the post-processing (pooling) core.
///
/// A stage's arithmetic, which the golden network and the hardware must both follow:
/// 1. The array multiplies the input codes (`activation`) by the weight codes and sums
///    exactly; the sum has `activation.frac + weight.frac` fractional bits.
/// 2. The ROUND unit drops `shift` bits with the array's rounding mode and saturates to
///    `outputBits` (signed); with `thresholds`, it outputs instead one bit per output,
///    `(sum >= T) xor flip` (1 stands for +1; `resultBits` is 1), and step 3 is skipped.
/// 3. The post-processing core adds the filter's `bias` (an integer at the output's fractional
///    length, `activation.frac + weight.frac - shift`), saturating to `outputBits`, applies
///    ReLU when `relu` is set, and saturates to `resultBits` (signed). A `resultBits` of 1
///    is a sign instead: 1 (+1) when the biased value is >= 0, else 0 (-1), how a BNN's first
///    layer (pixels times binary weights) makes the binary activations of the next.
/// 4. It pools when `pool` is set: max (for bits, an OR), or the average `(sum + n/2) >> log2(n)` of the n
///    values of a window (arithmetic shift, so rounding half up).
/// With `requantization` (per output channel: non-power-of-two and per-channel scales, as
/// onnxruntime's QDQ models have them), step 2 is instead the array's requantizer:
/// `saturate(roundHalfEven((sum + b)·M / 2^s))` to `outputBits`, with the filter's b, M and s
/// (`shift` is unused), and step 3's `bias` is the output's zero point.
/// The result feeds the next stage as its input codes (same fractional length); the last
/// stage's results are the logits, and the class is the index of the largest (the lowest
/// index on a tie).
public struct QuantizedNetwork: Hashable, Sendable, Codable {
    /// The preset's name (lenet5, mlp) and a label for the quantization ("fixed8", "ternary").
    public var model: String
    public var label: String
    /// Fractional length of the input image's codes: pixel p in [0, 1] is
    /// `min(round(p · 2^inputFrac), 2^(bits-1) - 1)` in the first stage's activation bits.
    public var inputFrac: Int
    /// When set, byte p's input code is `inputTable[p]` instead (256 entries): an imported
    /// model's own input quantization (scale and zero point), computed once on the host.
    public var inputTable: [Int]?
    public var stages: [Stage]

    public init(model: String, label: String, inputFrac: Int, inputTable: [Int]? = nil, stages: [Stage]) {
        self.model = model
        self.label = label
        self.inputFrac = inputFrac
        self.inputTable = inputTable
        self.stages = stages
    }

    /// One output channel's requantization: `bias` at the accumulator's scale, an unsigned
    /// `multiplier` and a right `shift`; the channel's real factor is `multiplier · 2^-shift`.
    public struct Requantization: Hashable, Sendable, Codable {
        public var bias: Int
        public var multiplier: Int
        public var shift: Int
        public init(bias: Int, multiplier: Int, shift: Int) {
            self.bias = bias
            self.multiplier = multiplier
            self.shift = shift
        }

        /// A real factor's integer form with `bits` of multiplier: `M · 2^-s` nearest to
        /// `factor`, the shift as large as `maxShift` and the multiplier's width allow, so the
        /// factor keeps as many significant bits as fit. Nil when the factor is not positive
        /// or too large for the multiplier at shift 0.
        public init?(bias: Int, factor: Double, bits: Int, maxShift: Int) {
            guard factor > 0, factor.isFinite, bits < Int.bitWidth - 1 else { return nil }
            func scaled(_ s: Int) -> Double { (factor * Double(sign: .plus, exponent: s, significand: 1)).rounded() }
            let top = Double((1 << bits) - 1)
            var s = maxShift
            while s > 0 && scaled(s) > top { s -= 1 }
            guard scaled(s) <= top, scaled(s) >= 1 else { return nil }
            self.init(bias: bias, multiplier: Int(scaled(s)), shift: s)
        }
    }

    public struct Width: Hashable, Sendable, Codable {
        public var bits: Int
        public var frac: Int
        public init(bits: Int, frac: Int) {
            self.bits = bits
            self.frac = frac
        }
    }

    public enum PoolKind: String, Hashable, Sendable, Codable { case max, average }

    public struct Pool: Hashable, Sendable, Codable {
        public var kind: PoolKind
        public var size: Int
        public init(_ kind: PoolKind, size: Int) {
            self.kind = kind
            self.size = size
        }
    }

    /// `(sum >= value) xor flip`, per output channel.
    public struct ThresholdValue: Hashable, Sendable, Codable {
        public var value: Int
        public var flip: Bool
        public init(value: Int, flip: Bool) {
            self.value = value
            self.flip = flip
        }
    }

    public struct Stage: Hashable, Sendable, Codable {
        /// The layer on the array, batch 1: a dense layer is a 1×1 convolution of a C×1×1 input.
        public var layer: ConvShape
        /// The array's number format (coded as its name, `NumberFormat.names`).
        public var format: NumberFormat
        /// Input codes' width and fractional length; for coded formats the code's value format.
        public var activation: Width
        /// Weight value format (for coded weights, the fixed-point format their values live in).
        public var weight: Width
        /// Weight codes, MCRS.
        public var weights: [Int]
        /// Codebook entries (integers of `weight`), for codebook formats.
        public var codebook: [Int]?
        public var shift: Int
        public var outputBits: Int
        public var thresholds: [ThresholdValue]?
        /// Per output channel, instead of the ROUND unit's `shift` (see above).
        public var requantization: [Requantization]?
        public var bias: [Int]
        public var relu: Bool
        public var resultBits: Int
        public var pool: Pool?

        public init(layer: ConvShape, format: NumberFormat, activation: Width, weight: Width, weights: [Int], codebook: [Int]? = nil,
                    shift: Int, outputBits: Int, thresholds: [ThresholdValue]? = nil, requantization: [Requantization]? = nil,
                    bias: [Int], relu: Bool, resultBits: Int, pool: Pool?) {
            self.layer = layer
            self.format = format
            self.activation = activation
            self.weight = weight
            self.weights = weights
            self.codebook = codebook
            self.shift = shift
            self.outputBits = outputBits
            self.thresholds = thresholds
            self.requantization = requantization
            self.bias = bias
            self.relu = relu
            self.resultBits = resultBits
            self.pool = pool
        }

        /// Fractional length of the stage's outputs and results.
        public var outputFrac: Int { activation.frac + weight.frac - shift }
        /// The shape of the stage's result (after pooling).
        public var resultShape: TensorShape {
            let k = pool?.size ?? 1
            return TensorShape(channels: layer.filters, height: layer.outHeight / k, width: layer.outWidth / k)
        }
    }
}
