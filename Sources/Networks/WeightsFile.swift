import Foundation
import Model

/// The shipped float weights (Models/<model>.weights): a first line `accelgen-weights 1`, a
/// second line of JSON saying what the file holds (the spec, how it was trained, its test
/// accuracy, and the tensors in order with their element counts), then the tensors as
/// little-endian Float32, with nothing after them. The JSON has sorted keys and no timestamps,
/// so the same training gives the same bytes.
public struct WeightsFile: Hashable, Sendable {
    public struct Tensor: Hashable, Sendable, Codable {
        public var name: String
        public var count: Int
    }
    public struct Header: Hashable, Sendable, Codable {
        public var model: String
        public var spec: NetworkSpec
        public var training: TrainingOptions
        public var testAccuracy: Double
        public var tensors: [Tensor]
    }

    public static let magic = "accelgen-weights 1"

    public var header: Header
    public var parameters: FloatParameters

    public init(spec: NetworkSpec, training: TrainingOptions, testAccuracy: Double, parameters: FloatParameters) {
        var tensors: [Tensor] = []
        for (i, layer) in parameters.layers.enumerated() {
            tensors.append(Tensor(name: "stage\(i).weight", count: layer.weights.count))
            tensors.append(Tensor(name: "stage\(i).bias", count: layer.bias.count))
        }
        header = Header(model: spec.name, spec: spec, training: training, testAccuracy: testAccuracy, tensors: tensors)
        self.parameters = parameters
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = Data((Self.magic + "\n").utf8)
        data.append(try encoder.encode(header))
        data.append(0x0A)
        for layer in parameters.layers {
            for tensor in [layer.weights, layer.bias] {
                for x in tensor { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
        }
        return data
    }

    /// Writes through a temporary file and a rename, so a failed run leaves no partial file.
    public func write(to path: String) throws {
        let data = try encoded()
        let tmp = path + ".tmp-\(getpid())"
        do {
            try data.write(to: URL(fileURLWithPath: tmp))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: tmp, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
    }

    public static func read(_ path: String) throws -> WeightsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NetworkError("cannot read weights \(path): \(FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file")")
        }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String) throws -> WeightsFile {
        func bad(_ why: String) -> NetworkError { NetworkError("\(path) is not an AccelGen weights file: \(why)") }
        let bytes = [UInt8](data)
        guard let nl1 = bytes.firstIndex(of: 0x0A), String(decoding: bytes[..<nl1], as: UTF8.self) == magic else {
            throw bad("the first line is not '\(magic)'")
        }
        guard let nl2 = bytes[(nl1 + 1)...].firstIndex(of: 0x0A) else { throw bad("no header line") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[(nl1 + 1)..<nl2]))
        } catch {
            throw bad("the header is not valid JSON (\(error))")
        }
        let stages = try StageLayout.stages(of: header.spec)
        var expected: [Tensor] = []
        for (i, s) in stages.enumerated() {
            expected.append(Tensor(name: "stage\(i).weight", count: s.shape.weightCount))
            expected.append(Tensor(name: "stage\(i).bias", count: s.shape.filters))
        }
        guard header.tensors == expected else { throw bad("its tensors \(header.tensors.map { "\($0.name)[\($0.count)]" }) do not match \(header.spec.name)") }
        let floats = expected.reduce(0) { $0 + $1.count }
        let body = bytes.count - (nl2 + 1)
        guard body == 4 * floats else { throw bad("\(body) bytes of data, the header's tensors need \(4 * floats)") }
        var values: [Float] = []
        values.reserveCapacity(floats)
        var at = nl2 + 1
        for _ in 0..<floats {
            let bits = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            values.append(Float(bitPattern: bits))
            at += 4
        }
        var layers: [LayerParameters] = []
        var offset = 0
        for s in stages {
            let w = Array(values[offset..<offset + s.shape.weightCount])
            offset += s.shape.weightCount
            let b = Array(values[offset..<offset + s.shape.filters])
            offset += s.shape.filters
            layers.append(LayerParameters(weights: w, bias: b))
        }
        var file = WeightsFile(spec: header.spec, training: header.training, testAccuracy: header.testAccuracy,
                               parameters: FloatParameters(layers: layers))
        file.header = header
        return file
    }
}
