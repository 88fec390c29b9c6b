import Foundation
import HDL

/// The reset every emitted design shares: `rst` is synchronous and active high, one cycle is
/// enough from any power-up state and at any time, and a design restarts as if powered up.
public struct ResetContract: Encodable, Sendable {
    public let port = "rst"
    public let polarity = "active-high"
    public let synchronous = true
    public let minimumCycles = 1
    public let note: String

    public init(note: String = "Hold rst high for at least one rising clock edge, at power-up or at any time; after that edge every output is defined (valid and ready flags low, data zero or stable) and the design starts as after power-up. Nothing presented while rst is high is accepted.") {
        self.note = note
    }
}

/// What `generate-rtl` writes beside the Verilog: the top, its ports, the parameters, figures
/// derived from them (accumulator width, FIFO depth, latencies) and the reset contract.
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
    /// Figures that follow from the parameters, by name (see the core's docs).
    public let derived: [String: Int]
    public let reset: ResetContract

    public init(core: String, top: ModuleDefinition, files: [VerilogFile], parameters: Parameters,
                derived: [String: Int] = [:], reset: ResetContract = ResetContract(), extraFiles: [String] = []) {
        self.core = core
        self.top = top.name
        self.files = files.map(\.fileName) + extraFiles
        self.ports = top.ports.map { PortEntry(name: $0.name, direction: $0.direction.rawValue, width: $0.shape.width, signed: $0.shape.isSigned) }
        self.parameters = parameters
        self.derived = derived
        self.reset = reset
    }
}

/// Why a design could not be written to its output folder (the CLI names the flag).
public struct OutputFolderError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

public enum DesignWriter {
    /// Files `generate-rtl` writes beside the manifest after it (`--pnr`: timing.json), which a
    /// rewrite replaces with the rest.
    public static let companions = ["timing.json"]

    /// Emits `top` and its hierarchy, and writes the `.v` files plus `manifest.json` into `directory`.
    ///
    /// The folder ends up holding exactly the manifest's files: a folder written before by
    /// `generate-rtl` (a manifest that lists every file in it) is replaced whole, so no module of
    /// an earlier design is left for a `*.v` glob to pick up; a folder holding anything else is
    /// refused. All text is made first and the new folder is filled beside the old one and
    /// renamed into place, so an error leaves the previous contents (or nothing) behind.
    @discardableResult
    /// `extraFiles` (name, text) are written beside them and listed in the manifest too (a
    /// register map's SystemRDL and C header).
    public static func write<P: Encodable>(core: String, top: ModuleDefinition, parameters: P, derived: [String: Int] = [:],
                                           extraFiles: [(name: String, text: String)] = [], to directory: URL) throws -> [URL] {
        let files = try VerilogEmitter.emit(top)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Parameters may write fields into a manifest that their stored JSON leaves out at the
        // default (ArrayConfig's lfsrStep): an outside reader should not need to know defaults.
        encoder.userInfo[CodingUserInfoKey(rawValue: "manifest")!] = true
        let manifest = try encoder.encode(Manifest(core: core, top: top, files: files, parameters: parameters, derived: derived,
                                                           extraFiles: extraFiles.map(\.name)))
        var contents: [(String, Data)] = files.map { ($0.fileName, Data($0.text.utf8)) } + extraFiles.map { ($0.name, Data($0.text.utf8)) }
        contents.append(("manifest.json", manifest + Data("\n".utf8)))

        let fm = FileManager.default
        let target = directory.standardizedFileURL
        let path = target.path
        func refuse(_ reason: String) -> OutputFolderError { OutputFolderError(path: path, reason: reason) }
        func posix(_ error: Error) -> String {
            let ns = error as NSError
            if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return String(cString: strerror(Int32(underlying.code))).lowercased()
            }
            if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))).lowercased() }
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileWriteNoPermission: return "permission denied"
            case .fileWriteVolumeReadOnly: return "read-only file system"
            case .fileWriteFileExists: return "a file is in the way"
            case .fileNoSuchFile: return "no such file or directory"
            default: return ns.localizedDescription
            }
        }

        var isFolder: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isFolder)
        if exists && !isFolder.boolValue { throw refuse("it is a file, not a folder") }
        if exists {
            let present = try Set(fm.contentsOfDirectory(atPath: path))
            if !present.isEmpty {
                let listed = previousFiles(in: target)
                guard let listed else {
                    throw refuse("the folder holds files generate-rtl did not write (\(present.sorted().prefix(3).joined(separator: ", ")))"
                                 + "; give a new or empty folder, or one written by generate-rtl")
                }
                let foreign = present.subtracting(listed).subtracting(["manifest.json"] + companions)
                if !foreign.isEmpty {
                    throw refuse("the folder holds files its manifest does not list (\(foreign.sorted().prefix(3).joined(separator: ", ")))"
                                 + "; give a new or empty folder, or one written by generate-rtl")
                }
            }
        }

        // Fill a sibling folder, then swap it in.
        let parent = target.deletingLastPathComponent()
        let tag = UUID().uuidString.prefix(8)
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).new-\(tag)", isDirectory: true)
        let retired = parent.appendingPathComponent(".\(target.lastPathComponent).old-\(tag)", isDirectory: true)
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw refuse(posix(error))
        }
        defer { try? fm.removeItem(at: staging) }
        do {
            for (name, data) in contents { try data.write(to: staging.appendingPathComponent(name)) }
        } catch {
            throw refuse(posix(error))
        }
        if exists {
            guard rename(path, retired.path) == 0 else { throw refuse(String(cString: strerror(errno)).lowercased()) }
        }
        guard rename(staging.path, path) == 0 else {
            let reason = String(cString: strerror(errno)).lowercased()
            if exists { _ = rename(retired.path, path) }
            throw refuse(reason)
        }
        if exists { try? fm.removeItem(at: retired) }
        return contents.map { target.appendingPathComponent($0.0) }
    }

    /// The files a previous `generate-rtl` manifest in `directory` lists, or nil when there is
    /// no such manifest.
    static func previousFiles(in directory: URL) -> Set<String>? {
        struct Previous: Decodable { let generator: String; let files: [String] }
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
              let previous = try? JSONDecoder().decode(Previous.self, from: data), previous.generator == "AccelGen"
        else { return nil }
        return Set(previous.files)
    }
}
