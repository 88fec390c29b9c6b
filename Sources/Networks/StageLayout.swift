import Model

/// Why a network description cannot be trained or quantized.
public struct NetworkError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One stage of a network as the hardware runs it: a convolution or dense layer on the array,
/// with the ReLU and pooling after it folded into the post-processing core.
public struct StageLayout: Hashable, Sendable {
    /// Index of the conv/dense layer in `NetworkSpec.layers`.
    public var layerIndex: Int
    public var isConv: Bool
    /// The layer as a convolution of batch 1 (a dense layer is 1×1 on a C×1×1 input).
    public var shape: ConvShape
    public var relu: Bool
    public var pool: QuantizedNetwork.Pool?

    public var inputShape: TensorShape { TensorShape(channels: shape.channels, height: shape.height, width: shape.width) }
    public var outputShape: TensorShape { TensorShape(channels: shape.filters, height: shape.outHeight, width: shape.outWidth) }
    public var resultShape: TensorShape {
        let k = pool?.size ?? 1
        return TensorShape(channels: shape.filters, height: shape.outHeight / k, width: shape.outWidth / k)
    }

    /// The stages of `spec`: each conv/dense layer, then optionally ReLU, then optionally one
    /// pooling layer; flatten only renames the CHW tensor as a vector. Anything else (pooling
    /// before ReLU, two poolings, a layer before the first conv/dense other than flatten) is
    /// refused, as a stage could not compute it. With `inference`, padded convolutions and
    /// pooling windows that leave an edge (the floor of size / window, as ONNX's MaxPool) are
    /// accepted too: the float forward pass and post-training quantization compute them
    /// (imported ONNX models; the integer network pads the im2col with zero codes and its
    /// pooling drops the edge); training and fine-tuning do not take them.
    public static func stages(of spec: NetworkSpec, inference: Bool = false) throws -> [StageLayout] {
        var stages: [StageLayout] = []
        var shape = spec.input
        for (i, layer) in spec.layers.enumerated() {
            let next = spec.shapes[i]
            switch layer {
            case .conv(let m, let k, let u, let p):
                guard p == 0 || inference else { throw NetworkError("\(spec.name): layer \(i) pads (\(p)); training supports padding 0 only") }
                let h = shape.height + 2 * p, w = shape.width + 2 * p
                guard h >= k, w >= k, (h - k) % u == 0, (w - k) % u == 0 else {
                    throw NetworkError("\(spec.name): layer \(i): a \(k)×\(k) stride-\(u) convolution does not tile \(shape)")
                }
                stages.append(StageLayout(layerIndex: i, isConv: true, shape: ConvShape(
                    channels: shape.channels, filters: m, height: shape.height, width: shape.width,
                    filterHeight: k, filterWidth: k, stride: u, padding: p), relu: false, pool: nil))
            case .dense(let n):
                stages.append(StageLayout(layerIndex: i, isConv: false, shape: ConvShape(
                    channels: shape.count, filters: n, height: 1, width: 1, filterHeight: 1, filterWidth: 1),
                    relu: false, pool: nil))
            case .relu:
                guard let last = stages.indices.last, !stages[last].relu, stages[last].pool == nil else {
                    throw NetworkError("\(spec.name): layer \(i): ReLU must follow a conv or dense layer directly")
                }
                stages[last].relu = true
            case .maxPool(let k), .avgPool(let k):
                guard let last = stages.indices.last, stages[last].pool == nil else {
                    throw NetworkError("\(spec.name): layer \(i): pooling must follow a conv layer (and its ReLU), once")
                }
                guard shape.height >= k, shape.width >= k, inference || (shape.height % k == 0 && shape.width % k == 0) else {
                    throw NetworkError("\(spec.name): layer \(i): \(k)×\(k) pooling does not tile \(shape)")
                }
                if case .maxPool = layer { stages[last].pool = .init(.max, size: k) } else { stages[last].pool = .init(.average, size: k) }
            case .flatten:
                break
            }
            shape = next
        }
        guard !stages.isEmpty else { throw NetworkError("\(spec.name) has no conv or dense layer") }
        return stages
    }
}
