import Foundation

/// Icarus Verilog (`iverilog`, `vvp`): a four-state, event-driven second opinion on the
/// emitted Verilog. X and Z are real values here, so it shows what a design does from an
/// uninitialised power-up state, which a two-state simulator cannot.
public enum Icarus {
    /// Compiles `sources` (file name → text) with `iverilog -g2012` and runs `top` with `vvp`;
    /// returns what the simulation printed. The compiled image goes to a temporary file (never
    /// /dev/null: iverilog marks its output executable).
    public static func run(sources: [String: String], top: String) throws -> String {
        guard let iverilog = Subprocess.which("iverilog"), let vvp = Subprocess.which("vvp") else {
            throw CosimError.toolMissing("iverilog")
        }
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("accelgen-icarus-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        var files: [String] = []
        for (name, text) in sources.sorted(by: { $0.key < $1.key }) {
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            files.append(url.path)
        }
        let image = dir.appendingPathComponent("sim.vvp").path
        let (status, out) = try Subprocess.capture(iverilog, ["-g2012", "-s", top, "-o", image] + files)
        guard status == 0 else { throw CosimError.toolFailed(command: "iverilog", status: status, output: out) }
        let (runStatus, printed) = try Subprocess.capture(vvp, ["-n", image])
        guard runStatus == 0 else { throw CosimError.toolFailed(command: "vvp", status: runStatus, output: printed) }
        return printed
    }
}
