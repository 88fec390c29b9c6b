/// A convolution layer's shape (Eyeriss notation): N images of C×H×W, M filters of C×R×S,
/// stride U, zero padding P on every side; the output is N×M×E×F.
/// Tensors are flat arrays in NCHW (input), MCRS (weights) and NMEF (output) order.
public struct ConvShape: Hashable, Sendable, Codable {
    public var batch: Int
    public var channels: Int
    public var filters: Int
    public var height: Int
    public var width: Int
    public var filterHeight: Int
    public var filterWidth: Int
    public var stride: Int
    public var padding: Int

    public init(batch: Int = 1, channels: Int, filters: Int, height: Int, width: Int,
                filterHeight: Int, filterWidth: Int, stride: Int = 1, padding: Int = 0) {
        self.batch = batch
        self.channels = channels
        self.filters = filters
        self.height = height
        self.width = width
        self.filterHeight = filterHeight
        self.filterWidth = filterWidth
        self.stride = stride
        self.padding = padding
    }

    /// E and F: output rows and columns.
    public var outHeight: Int { (height + 2 * padding - filterHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - filterWidth) / stride + 1 }

    public var inputCount: Int { batch * channels * height * width }
    public var weightCount: Int { filters * channels * filterHeight * filterWidth }
    public var outputCount: Int { batch * filters * outHeight * outWidth }
    /// Multiply-accumulates of the loop nest, padding positions included.
    public var macs: Int { outputCount * channels * filterHeight * filterWidth }

    public func inputIndex(n: Int, c: Int, y: Int, x: Int) -> Int { ((n * channels + c) * height + y) * width + x }
    public func weightIndex(m: Int, c: Int, r: Int, s: Int) -> Int { ((m * channels + c) * filterHeight + r) * filterWidth + s }
    public func outputIndex(n: Int, m: Int, e: Int, f: Int) -> Int { ((n * filters + m) * outHeight + e) * outWidth + f }

    /// The input value at padded coordinates (y, x): zero outside the image.
    public func input(_ input: [Int], n: Int, c: Int, y: Int, x: Int) -> Int {
        y < 0 || y >= height || x < 0 || x >= width ? 0 : input[inputIndex(n: n, c: c, y: y, x: x)]
    }
}

/// A layer as the front ends name it: a shape plus a preset name when it has one.
public struct ConvLayer: Hashable, Sendable, Codable {
    public var name: String
    public var shape: ConvShape
    public init(name: String, shape: ConvShape) {
        self.name = name
        self.shape = shape
    }
}
