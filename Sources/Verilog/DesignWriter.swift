import Foundation
import HDL

/// What `generate-rtl` writes beside the Verilog: the top, its ports and the parameters.
public struct Manifest<Parameters: Encodable>: Encodable {
    public struct PortEntry: Encodable {
        public let name: String
        public let direction: String
        public let width: Int
        public let signed: Bool
    }

    public let generator = "AccelGen"
    public let core: String
    public let top: String
    public let files: [String]
    public let ports: [PortEntry]
    public let parameters: Parameters

    public init(core: String, top: ModuleDefinition, files: [VerilogFile], parameters: Parameters) {
        self.core = core
        self.top = top.name
        self.files = files.map(\.fileName)
        self.ports = top.ports.map { PortEntry(name: $0.name, direction: $0.direction.rawValue, width: $0.shape.width, signed: $0.shape.isSigned) }
        self.parameters = parameters
    }
}

public enum DesignWriter {
    /// Emits `top` and its hierarchy, and writes the `.v` files plus `manifest.json` into `directory`.
    /// All text is made before anything is written, and every file lands by rename, so an error
    /// leaves no partial files. Returns the files written.
    @discardableResult
    public static func write<P: Encodable>(core: String, top: ModuleDefinition, parameters: P, to directory: URL) throws -> [URL] {
        let files = try VerilogEmitter.emit(top)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let manifest = try encoder.encode(Manifest(core: core, top: top, files: files, parameters: parameters))
        var contents: [(String, Data)] = files.map { ($0.fileName, Data($0.text.utf8)) }
        contents.append(("manifest.json", manifest + Data("\n".utf8)))

        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let staging = directory.appendingPathComponent(".staging-\(UUID().uuidString)")
        try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        defer { try? fm.removeItem(at: staging) }
        for (name, data) in contents { try data.write(to: staging.appendingPathComponent(name)) }
        var written: [URL] = []
        for (name, _) in contents {
            let target = directory.appendingPathComponent(name)
            _ = try? fm.removeItem(at: target)
            try fm.moveItem(at: staging.appendingPathComponent(name), to: target)
            written.append(target)
        }
        return written
    }
}
