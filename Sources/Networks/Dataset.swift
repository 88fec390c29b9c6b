import CZlib
import Foundation
import Model

/// Images with class labels, one image after the other (CHW), pixels in [0, 1].
public struct LabeledImages: Sendable {
    public var shape: TensorShape
    /// `count · shape.count` pixels, p/255 for the byte p.
    public var pixels: [Float]
    /// The raw bytes behind `pixels` (the quantized evaluator rounds these exactly).
    public var bytes: [UInt8]
    public var labels: [Int]
    public var count: Int { labels.count }

    public init(shape: TensorShape, bytes: [UInt8], labels: [Int]) {
        precondition(bytes.count == shape.count * labels.count, "pixel count does not match the labels")
        self.shape = shape
        self.bytes = bytes
        self.pixels = bytes.map { Float($0) / 255 }
        self.labels = labels
    }

    /// The images `range` (indices into this set).
    public func subset(_ range: Range<Int>) -> LabeledImages {
        let n = shape.count
        return LabeledImages(shape: shape, bytes: Array(bytes[range.lowerBound * n..<range.upperBound * n]), labels: Array(labels[range]))
    }

    /// The first `n` images (all when there are fewer).
    public func prefix(_ n: Int) -> LabeledImages { subset(0..<min(n, count)) }
}

/// Why a data set could not be read: one line each, naming the file.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, package: String)
    case unreadable(path: String, reason: String)
    case corrupt(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path, let package):
            "\(path) not found: install the Debian package \(package) (apt-get install \(package), or `make deps`)"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .corrupt(let path, let reason): "\(path) is not a valid IDX file: \(reason)"
        }
    }
}

/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, arXiv:1708.07747): 60,000 training and 10,000
/// test images of 28×28 grey pixels in 10 classes, read from Debian's `dataset-fashion-mnist`.
public enum FashionMNIST {
    public static let package = "dataset-fashion-mnist"
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let shape = TensorShape(channels: 1, height: 28, width: 28)

    public enum Split: String, Sendable { case train, test }

    /// The split's images and labels from `directory` (`{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`).
    public static func load(_ split: Split, directory: String = defaultDirectory) throws -> LabeledImages {
        let prefix = split == .train ? "train" : "t10k"
        let imagesPath = "\(directory)/\(prefix)-images-idx3-ubyte.gz"
        let labelsPath = "\(directory)/\(prefix)-labels-idx1-ubyte.gz"
        let images = try IDX.read(imagesPath, package: package)
        let labels = try IDX.read(labelsPath, package: package)
        guard images.dimensions.count == 3, images.dimensions[1] == shape.height, images.dimensions[2] == shape.width else {
            throw DatasetError.corrupt(path: imagesPath, reason: "dimensions \(images.dimensions), expected [n, 28, 28]")
        }
        guard labels.dimensions.count == 1 else {
            throw DatasetError.corrupt(path: labelsPath, reason: "dimensions \(labels.dimensions), expected [n]")
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DatasetError.corrupt(path: labelsPath, reason: "\(labels.dimensions[0]) labels for \(images.dimensions[0]) images in \(imagesPath)")
        }
        if let bad = labels.data.first(where: { $0 > 9 }) {
            throw DatasetError.corrupt(path: labelsPath, reason: "label \(bad) is not a class 0...9")
        }
        return LabeledImages(shape: shape, bytes: images.data, labels: labels.data.map(Int.init))
    }
}

/// IDX files (LeCun's MNIST format): two zero bytes, the element type (0x08: unsigned byte),
/// the number of dimensions, each dimension as a big-endian UInt32, then the data.
public enum IDX {
    public struct File: Sendable {
        public var dimensions: [Int]
        public var data: [UInt8]
    }

    /// Reads a gzipped (or plain: zlib's gzread passes those through) IDX file of unsigned bytes.
    public static func read(_ path: String, package: String) throws -> File {
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.missing(path: path, package: package) }
        let bytes = try gunzip(path)
        func corrupt(_ reason: String) -> DatasetError { .corrupt(path: path, reason: reason) }
        guard bytes.count >= 4 else { throw corrupt("\(bytes.count) bytes, shorter than the 4-byte magic number") }
        guard bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08 else {
            let magic = bytes[0..<4].map { String(format: "%02x", $0) }.joined()
            throw corrupt("magic number 0x\(magic), expected 0x000008nn (unsigned bytes)")
        }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank) else { throw corrupt("\(rank) dimensions, expected 1...4") }
        let header = 4 + 4 * rank
        guard bytes.count >= header else { throw corrupt("\(bytes.count) bytes, shorter than its \(header)-byte header") }
        let dimensions = (0..<rank).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
        let expected = dimensions.reduce(1, *)
        guard bytes.count - header == expected else {
            let what = bytes.count - header < expected ? "truncated" : "too long"
            throw corrupt("\(what): \(bytes.count - header) data bytes, dimensions \(dimensions) need \(expected)")
        }
        return File(dimensions: dimensions, data: Array(bytes[header...]))
    }

    /// The whole decompressed content of a gzip file, through the system zlib.
    static func gunzip(_ path: String) throws -> [UInt8] {
        guard let file = gzopen(path, "rb") else { throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { gzclose(file) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let message = String(cString: gzerror(file, &code))
                throw DatasetError.corrupt(path: path, reason: "gzip: \(message)")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        // A gzip stream cut short reads as a clean end of file; zlib reports it here.
        var code: Int32 = 0
        let message = String(cString: gzerror(file, &code))
        if code != Z_OK && code != Z_STREAM_END {
            throw DatasetError.corrupt(path: path, reason: "gzip: \(message)")
        }
        return out
    }
}

/// Calibration images from a file, for post-training quantization of a model made elsewhere:
/// an IDX file of unsigned bytes (gzipped or plain, N×H×W or N×C×H×W) or a NumPy `.npy` array of
/// `uint8` in C order with those shapes. The values are bytes as the data set's are (the
/// model's input scale applies to them); the labels are zeros (calibration reads none).
public enum CalibrationImages {
    public static func read(_ path: String, shape: TensorShape) throws -> LabeledImages {
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.unreadable(path: path, reason: "no such file") }
        let (dimensions, data): ([Int], [UInt8])
        if path.hasSuffix(".npy") {
            (dimensions, data) = try NPY.readBytes(path)
        } else {
            let file = try IDX.read(path, package: "(none)")
            (dimensions, data) = (file.dimensions, file.data)
        }
        let image = Array(dimensions.dropFirst())
        let wanted = [[shape.channels, shape.height, shape.width]] + (shape.channels == 1 ? [[shape.height, shape.width]] : [])
        guard let n = dimensions.first, n > 0, wanted.contains(image) else {
            throw DatasetError.corrupt(path: path, reason: "dimensions \(dimensions), expected [n, \(shape.channels), \(shape.height), \(shape.width)]" + (shape.channels == 1 ? " or [n, \(shape.height), \(shape.width)]" : ""))
        }
        return LabeledImages(shape: shape, bytes: data, labels: [Int](repeating: 0, count: n))
    }
}

/// NumPy's `.npy` format (version 1, 2 or 3): the magic `\x93NUMPY`, a header dictionary
/// (`descr`, `fortran_order`, `shape`), then the data. Only unsigned bytes in C order are read.
enum NPY {
    static func readBytes(_ path: String) throws -> (dimensions: [Int], data: [UInt8]) {
        guard let content = FileManager.default.contents(atPath: path) else { throw DatasetError.unreadable(path: path, reason: "cannot read it") }
        let bytes = [UInt8](content)
        func corrupt(_ reason: String) -> DatasetError { .corrupt(path: path, reason: reason) }
        guard bytes.count >= 10, bytes[0..<6] == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] else { throw corrupt("not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let (lengthBytes, start) = major == 1 ? (2, 10) : (4, 12)
        guard [1, 2, 3].contains(major), bytes.count >= start else { throw corrupt(".npy version \(major) is not 1, 2 or 3") }
        let length = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        guard bytes.count >= start + length else { throw corrupt("its header is cut short") }
        let header = String(decoding: bytes[start..<start + length], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr"), ["'|u1'", "'<u1'", "'>u1'", "'u1'"].contains(where: descr.hasPrefix) else {
            throw corrupt("element type \(field("descr")?.prefix(8) ?? "?"): only uint8 (bytes 0-255, as the data set's) is read")
        }
        guard field("fortran_order")?.hasPrefix("False") == true else { throw corrupt("Fortran order: only C order is read") }
        guard let shapeText = field("shape"), let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else {
            throw corrupt("no shape in its header")
        }
        let dims = shapeText[shapeText.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.map { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ $0 != nil }) else { throw corrupt("shape \(shapeText.prefix(40)) does not parse") }
        let dimensions = dims.map { $0! }
        let count = dimensions.reduce(1, *)
        guard bytes.count - start - length == count else {
            throw corrupt("\(bytes.count - start - length) data bytes, shape \(dimensions) needs \(count)")
        }
        return (dimensions, Array(bytes[(start + length)...]))
    }
}
