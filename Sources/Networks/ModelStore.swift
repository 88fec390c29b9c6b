import Foundation
import Model

/// Where networks come from: the float weights shipped in Models/, and quantized networks,
/// made on first use (fine-tuned where the scheme needs it) and cached on disk.
public enum ModelStore {
    /// The repository's Models/ folder (found from this source file), or `ACCELGEN_MODELS`.
    public static var shippedDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["ACCELGEN_MODELS"], !dir.isEmpty { return dir }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Models").path
    }

    public static func shippedWeightsPath(_ model: String) -> String { "\(shippedDirectory)/\(model).weights" }

    /// `ACCELGEN_MODEL_CACHE`, else ~/.cache/accelgen/models.
    public static var cacheDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["ACCELGEN_MODEL_CACHE"], !dir.isEmpty { return dir }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/accelgen/models").path
    }

    /// Bump when quantization or fine-tuning changes, so cached networks made the old way are not reused.
    static let version = "networks-quantize-2"

    /// `spec` quantized with `scheme` from `weights` (default: the shipped ones). Schemes that
    /// need no training are quantized directly; the others are fine-tuned on Fashion-MNIST
    /// (minutes) unless the cache holds the result for exactly these inputs (key: a hash of
    /// the version, spec, scheme, weights, fine-tuning settings and calibration size).
    public static func quantized(_ spec: NetworkSpec, scheme: QuantizationScheme, weights: WeightsFile? = nil,
                                 datasetDirectory: String = FashionMNIST.defaultDirectory,
                                 cacheDirectory: String = ModelStore.cacheDirectory,
                                 log: (String) -> Void = { _ in }) throws -> QuantizedNetwork {
        let file = try weights ?? WeightsFile.read(shippedWeightsPath(spec.name))
        guard file.header.spec == spec else { throw NetworkError("the weights are for \(file.header.spec.name), not \(spec.name)") }
        let train = try FashionMNIST.load(.train, directory: datasetDirectory)
        let calibration = train.prefix(Quantizer.calibrationImages)
        guard scheme.needsFineTuning else {
            return try Quantizer.quantize(spec: spec, parameters: file.parameters, scheme: scheme, calibration: calibration)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var key = FNV1a()
        key.add(Data(version.utf8))
        key.add(try encoder.encode(spec))
        key.add(Data(scheme.name.utf8))
        key.add(try file.encoded())
        key.add(try encoder.encode(scheme.fineTuning))
        key.add(Data("\(Quantizer.calibrationImages)".utf8))
        let path = "\(cacheDirectory)/\(spec.name)-\(scheme.name)-\(String(key.value, radix: 16)).json"
        if let data = FileManager.default.contents(atPath: path), let network = try? JSONDecoder().decode(QuantizedNetwork.self, from: data) {
            log("\(scheme.name): cached \(path)")
            return network
        }
        log("\(scheme.name): fine-tuning \(scheme.fineTuning.epochs) epochs (not cached yet)")
        let network = try Quantizer.fineTune(spec: spec, parameters: file.parameters, scheme: scheme, calibration: calibration,
                                             data: train) { log("\(scheme.name) " + $0.description) }
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        // Through a temporary file and a rename, so a concurrent reader never sees half a file.
        let tmp = path + ".tmp-\(getpid())"
        try encoder.encode(network).write(to: URL(fileURLWithPath: tmp))
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: tmp, toPath: path)
        return network
    }
}

/// FNV-1a, 64 bits: a stable hash for cache keys (Swift's Hasher is seeded per process).
struct FNV1a {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ data: Data) {
        for byte in data {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
    }
}
