import Cosim
import Cores
import Foundation
import Golden
import Runtime
import Verification

/// The generated systolic array against a lean hand-written output-stationary array
/// (Testbench/reference), measured side by side in one run with the same Verilator flags: the
/// simulation-speed target of docs/SYSTOLIC.md (Simulation speed).
extension Benchmarks {
    /// Side of the arrays compared, cycles per bare-loop run, and rounds (each figure is the
    /// best of its rounds: the machines are shared, and interference only ever slows a run).
    static let referenceSide = 16
    static let loopCycles = 2_000_000
    static let rounds = 3

    /// The reference array as a design: its Verilog from Testbench/reference, N = `side`.
    static func referenceDesign(side: Int) throws -> CosimDesign {
        let dir = Verilator.testbenchDirectory.appendingPathComponent("reference", isDirectory: true)
        var sources: [String: String] = [:]
        for name in ["ref_os_array.v", "ref_os_pe.v"] {
            sources[name] = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        let selBits = max(1, ceilLog2(side * side))
        return CosimDesign(top: "ref_os_array", sources: sources, ports: [
            .input("clk"), .input("clear"), .input("a_west", 8 * side), .input("b_north", 8 * side),
            .input("sel", selBits), .output("acc_out", 32),
        ])
    }

    static func ceilLog2(_ n: Int) -> Int {
        var b = 0
        while (1 << b) < n { b += 1 }
        return b
    }

    /// Runs a bare-loop model for `cycles` cycles and returns its simulated cycles per second.
    static func runLoop(_ model: BuiltModel, _ arguments: [String]) throws -> Double {
        let p = Process()
        p.executableURL = model.executable
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        guard p.terminationStatus == 0, fields.count >= 4, fields[0] == "cycles", fields[2] == "seconds",
              let cycles = Double(fields[1]), let seconds = Double(fields[3]), seconds > 0 else {
            throw CosimError.toolFailed(command: ([model.executable.path] + arguments).joined(separator: " "),
                                        status: p.terminationStatus, output: text)
        }
        return cycles / seconds
    }

    /// The figures of issue 13: the reference's MACs/s, the generated array's through
    /// `simulate`'s stream (every output checked, the benchmark of `systolic()`) and in a bare
    /// loop like the reference's, and their ratios.
    public static func reference() throws -> [String] {
        let n = referenceSide
        let ref = try Verilator.build(try referenceDesign(side: n),
                                      options: BuildOptions(verilatorFlags: ["-GN=\(n)"], program: "reference/ref_os_loop.cpp"))
        let c = ArrayConfig(rows: n, cols: n)
        let generated = try cosimDesign(try Systolic.module(c))
        let bare = try Verilator.build(generated, options: BuildOptions(program: "reference/systolic_loop.cpp"))
        let h = try GEMMCheck(c, record: false)
        var g = SplitMix64(seed: 1)
        let m = 32 * n, k = 256
        let a = SystolicHarness.random(rows: m, cols: k, c.a.golden, &g)
        let b = SystolicHarness.random(rows: k, cols: m, c.b.golden, &g)
        _ = try h.run(label: "bench warm-up", a: a, b: b)

        var refCycles = 0.0, bareCycles = 0.0, streamMACs = 0.0, mismatches = 0
        for _ in 0..<rounds {
            refCycles = max(refCycles, try runLoop(ref, [String(loopCycles), String(n)]))
            bareCycles = max(bareCycles, try runLoop(bare, [String(loopCycles)]))
            let r = try h.run(label: "bench", a: a, b: b)
            streamMACs = max(streamMACs, r.simulatedMACsPerSecond)
            mismatches += r.mismatches
        }
        let refMACs = refCycles * Double(n * n)
        return [
            String(format: "reference %dx%d OS array (Testbench/reference), bare C++ loop: %.2f M cycles/s, %.0f M MACs/s",
                   n, n, refCycles / 1e6, refMACs / 1e6),
            String(format: "generated systolic %dx%d, bare C++ loop: %.2f M cycles/s (%.2fx the reference)",
                   n, n, bareCycles / 1e6, bareCycles / refCycles),
            String(format: "generated systolic %dx%d through simulate's stream, every output checked: %.0f M MACs/s (%.2fx the reference, %d mismatches)",
                   n, n, streamMACs / 1e6, streamMACs / refMACs, mismatches),
        ]
    }
}
