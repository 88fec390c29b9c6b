import Foundation
import HDL
import Verilog
import Cosim
import Runtime

/// A simulator the in-process one is compared with.
public enum Tool: String, CaseIterable, Sendable {
    case verilator, icarus
}

/// Many independent circuits side by side under one top module, so that one Verilator build and
/// one Icarus compile check all of them. They share the clock, the reset and a random stimulus
/// bus, `stim`; each circuit input reads a slice of it. Circuit `k` is instance `u<k>` and its
/// outputs, concatenated, are the top's output `o<k>`.
public struct Batch {
    public static let stimulusWidth = 320
    public static let topName = "fuzz_top"

    public var circuits: [FuzzCircuit]
    public var cycles: Int
    /// Seeds the stimulus and the resets.
    public var stimulusSeed: UInt64

    public init(circuits: [FuzzCircuit], cycles: Int, stimulusSeed: UInt64) {
        self.circuits = circuits
        self.cycles = cycles
        self.stimulusSeed = stimulusSeed
    }

    /// The slice of `stim` that input `shape` at `offset` reads (the same rule for every batch).
    static func slice(_ shape: Shape, offset: Int) -> (lo: Int, width: Int) {
        let w = min(shape.width, stimulusWidth)
        return (offset % (stimulusWidth - w + 1), w)
    }

    public static func moduleName(_ k: Int) -> String { "c\(k)" }

    /// The top module. Throws when a circuit does not elaborate.
    public func top() throws -> ModuleDefinition {
        let definitions = try circuits.enumerated().map { try CircuitBuilder.define($1, name: Self.moduleName($0)) }
        return try ModuleDefinition.define(Self.topName) { m in
            let stim = m.input("stim", .unsigned(Self.stimulusWidth))
            // A register with a reset, so the top always has `clk` and `rst`.
            let tick = m.register("tick_q", .bit, reset: 0)
            tick.assign(~tick)
            m.output("tick", tick)
            for (k, (circuit, definition)) in zip(circuits, definitions).enumerated() {
                var connections: [String: Signal] = [:]
                var j = 0
                for node in circuit.nodes {
                    guard case .input(let shape, let offset) = node else { continue }
                    let (lo, w) = Self.slice(shape, offset: offset)
                    connections["i\(j)"] = CircuitBuilder.fit(stim.bits(lo + w - 1, lo), shape)
                    j += 1
                }
                let inst = m.instance(definition, name: "u\(k)", connections)
                let outs = definition.ports.filter { $0.direction == .output }.map { inst[$0.name] }
                m.output("o\(k)", cat(outs))
            }
        }
    }

    /// One row per cycle: the reset bit, then the words of `stim`. The reset is high in the first
    /// cycle and now and then afterwards.
    public func stimulus() -> [[UInt64]] {
        var rng = SplitMix64(seed: stimulusSeed)
        let words = (Self.stimulusWidth + 63) / 64
        return (0..<cycles).map { c in [c == 0 || rng.chance(0.08) ? 1 : 0] + (0..<words).map { _ in rng.word() } }
    }

    /// The outputs `o<k>` per cycle from the in-process simulator: [cycle][circuit] -> words.
    package func expected(_ top: ModuleDefinition, mutation: CircuitSimulator.Mutation? = nil) throws -> [[[UInt64]]] {
        let sim = CircuitSimulator(top, mutation: mutation)
        let names = circuits.indices.map { "o\($0)" }
        let flat = try sim.run(cycles: cycles, inputs: ["rst", "stim"], values: Array(stimulus().joined()), outputs: names)
        return split(flat, top)
    }

    /// Verilator optimisations the fuzz builds turn off, because Verilator 5.006 miscompiles
    /// circuits the generator makes with them (all fixed upstream by 5.038; the reproducers are
    /// in Tests/FuzzTests). Everything else Verilator does stays on.
    ///
    /// - `-fno-dfg-peephole-fold-binary`: the DFG optimizer folds a signed `<=` of two
    ///   constants as `<` (`foldOp<DfgLteS>` calls `opLtS`; upstream 2f6ecd185, #6004).
    ///   It shows when both sides become the same constant only inside DFG: `e <= f` with `e`
    ///   and `f` both `i0 & ~i0`, signed, gives 0. (V3Const folds `x <= x` before DFG, and the
    ///   two agree on unequal constants.) With the flag, V3Const folds these later, correctly.
    /// - `-fno-subst -fno-subst-const`: the two constant-folding passes after V3Expand (the
    ///   first one runs with V3Subst). V3Expand rewrites `|x` as `x != 0` with a wrong C++ width
    ///   (1 bit where a 32-bit word is meant, or the width of an enclosing zero extension), and
    ///   V3Const, trusting it, miscompiles: `a | ({1'b0, |x} >> 1)` becomes `a | |x[2:1]`
    ///   (bit-op-tree folding, first pass), and the low word of a wide
    ///   `|c ? {87'b0, |x} : '1` becomes `!(|c) || |x`, 0 or 1 instead of all ones (`a ? b : '1`
    ///   -> `!a || b` after V3Subst copied the word in, second pass). Each flag alone leaves
    ///   one of them. Upstream: "Preserve C++ widths in V3Expand" (#5975, for #5953) and "Fix
    ///   constant propagation of post-expand stages" (#5963, #5972, #5983).
    public static let verilatorFlags = ["-fno-dfg-peephole-fold-binary", "-fno-subst", "-fno-subst-const"]

    /// The same from Verilator, through Cosim, built with `flags`. Random circuits have
    /// registers without reset, so all three simulators start every register and memory word
    /// at zero (the in-process simulator does, and the Icarus testbench clears them): the
    /// fuzzer compares semantics, not power-up states.
    public func verilator(_ top: ModuleDefinition, sources: [String: String], flags: [String] = verilatorFlags) throws -> [[[UInt64]]] {
        let ports = top.ports.map { PortSpec(name: $0.name, width: $0.shape.width, direction: $0.direction == .input ? .input : .output) }
        let design = CosimDesign(top: top.name, sources: sources, ports: ports)
        // -O0: a batch runs for a few dozen cycles, and gcc -O1 takes about three times as long
        // to compile the model (Verilator's C++ is the same, so what is checked is the same).
        let sim = try Simulation(design, optimize: false, record: false, initialState: .zero, verilatorFlags: flags)
        defer {
            sim.close()
            // Each batch is new: keep the cache from filling up with models nobody asks for again.
            try? FileManager.default.removeItem(at: sim.model.directory)
        }
        let names = circuits.indices.map { "o\($0)" }
        let flat = try sim.run(cycles: cycles, inputs: ["rst", "stim"], values: Array(stimulus().joined()), outputs: names)
        return split(flat, top)
    }

    private func split(_ flat: [UInt64], _ top: ModuleDefinition) -> [[[UInt64]]] {
        let counts = circuits.indices.map { k in (width(top, k) + 63) / 64 }
        var result: [[[UInt64]]] = []
        var i = 0
        for _ in 0..<cycles {
            var row: [[UInt64]] = []
            for n in counts {
                row.append(Array(flat[i..<i + n]))
                i += n
            }
            result.append(row)
        }
        return result
    }

    func width(_ top: ModuleDefinition, _ k: Int) -> Int {
        top.ports.first { $0.name == "o\(k)" }!.shape.width
    }

    /// The same from Icarus Verilog: a testbench reads the stimulus with `$readmemh`, clears
    /// every register and memory (Icarus starts them at x, Verilator at 0) and prints each
    /// output in hex before every rising edge. Values with x or z bits come back as nil.
    public func icarus(_ top: ModuleDefinition, sources: [String: String]) throws -> [[[UInt64]?]] {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("accelgen-fuzz-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        // FUZZ_KEEP=1 keeps the folder (testbench, stimulus, sources) for a look by hand.
        let keep = ProcessInfo.processInfo.environment["FUZZ_KEEP"] != nil
        defer { if keep { print("icarus files kept in \(dir.path)") } else { try? fm.removeItem(at: dir) } }
        for (name, text) in sources { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try testbench(top).write(to: dir.appendingPathComponent("fuzz_tb.v"), atomically: true, encoding: .utf8)
        let rows = stimulus().map { row in
            // rst above stim, as one hex number of stimulusWidth + 1 bits, most significant first.
            (row[0] == 1 ? "1" : "0") + row.dropFirst().reversed().map { hex($0, digits: 16) }.joined()
        }
        try (rows.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("stim.hex"), atomically: true, encoding: .utf8)
        // Compiled to a file in the temporary folder, never to /dev/null (iverilog would replace it).
        let compile = try runTool("iverilog", ["-g2005", "-o", "fuzz.vvp", "-s", "fuzz_tb", "fuzz_tb.v"] + sources.keys.sorted(), in: dir)
        guard compile.status == 0 else { throw ToolError.failed(tool: "iverilog", output: String(compile.output.prefix(4000))) }
        let run = try runTool("vvp", ["-n", "fuzz.vvp"], in: dir)
        guard run.status == 0 else { throw ToolError.failed(tool: "vvp", output: String(run.output.prefix(4000))) }
        let values = run.output.split(separator: "\n").filter { $0.hasPrefix("=") }.map { parseHex($0.dropFirst()) }
        guard values.count == cycles * circuits.count else {
            throw ToolError.failed(tool: "vvp", output: "expected \(cycles * circuits.count) values, got \(values.count):\n" + String(run.output.prefix(2000)))
        }
        return (0..<cycles).map { c in Array(values[(c * circuits.count)..<((c + 1) * circuits.count)]) }
    }

    func testbench(_ top: ModuleDefinition) -> String {
        let w = Self.stimulusWidth
        var t = "module fuzz_tb;\n"
        t += "    reg clk = 1'b0;\n    reg rst = 1'b0;\n    reg [\(w - 1):0] stim = \(w)'h0;\n"
        t += "    reg [\(w):0] rows [0:\(cycles - 1)];\n    integer c;\n    integer i;\n    wire tick;\n"
        for k in circuits.indices { t += "    wire [\(width(top, k) - 1):0] o\(k);\n" }
        t += "    \(Self.topName) dut (.clk(clk), .rst(rst), .stim(stim), .tick(tick)"
        for k in circuits.indices { t += ", .o\(k)(o\(k))" }
        t += ");\n    initial begin\n        $readmemh(\"stim.hex\", rows);\n        dut.tick_q = 1'b0;\n"
        for (k, circuit) in circuits.enumerated() {
            for line in clearState(circuit, path: "dut.u\(k)") { t += "        \(line)\n" }
        }
        t += "        for (c = 0; c < \(cycles); c = c + 1) begin\n"
        t += "            {rst, stim} = rows[c];\n            #1;\n"
        for k in circuits.indices { t += "            $display(\"=%h\", o\(k));\n" }
        t += "            clk = 1'b1;\n            #1;\n            clk = 1'b0;\n            #1;\n        end\n"
        t += "        $finish;\n    end\nendmodule\n"
        return t
    }

    /// Statements that zero every register, read register and read memory of `circuit` (the
    /// builder names them, and keeps each of them alive through the `keep` output).
    func clearState(_ circuit: FuzzCircuit, path: String) -> [String] {
        var lines: [String] = []
        var readMemories = Set<Int>()
        for (i, node) in circuit.nodes.enumerated() {
            if node.isState { lines.append("\(path).\(CircuitBuilder.stateName(i, node)) = 0;") }
            switch node {
            case .read(let k, _), .readSync(let k, _, _): readMemories.insert(k)
            case .instance(let child, _, _): lines += clearState(circuit.children[child], path: "\(path).u\(i)")
            default: break
            }
        }
        for k in readMemories.sorted() {
            lines.append("for (i = 0; i < \(circuit.memories[k].depth); i = i + 1) \(path).mem\(k)[i] = 0;")
        }
        return lines
    }
}

func hex(_ word: UInt64, digits: Int) -> String {
    let s = String(word, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

/// Hex digits (most significant first) -> words, least significant first; nil on x or z.
func parseHex<S: StringProtocol>(_ text: S) -> [UInt64]? {
    var words: [UInt64] = []
    var chars = Array(text.trimmingCharacters(in: .whitespaces))
    while !chars.isEmpty {
        let chunk = chars.suffix(16)
        chars.removeLast(chunk.count)
        guard let w = UInt64(String(chunk), radix: 16) else { return nil }
        words.append(w)
    }
    return words
}
