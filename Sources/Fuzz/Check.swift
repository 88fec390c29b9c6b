import Foundation
import HDL
import Verilog
import Cosim
import Runtime

/// An output of one circuit that a tool computed differently from the in-process simulator.
public struct Mismatch: Sendable {
    public let tool: Tool
    public let circuit: Int
    public let cycle: Int
    public let expected: [UInt64]
    /// nil when the tool gave x or z bits.
    public let got: [UInt64]?
}

/// Runs batches through the in-process simulator and the tools, and compares every output of
/// every circuit in every cycle.
public struct Checker {
    public var tools: [Tool]
    /// `verilator --lint-only -Wall` over every batch.
    public var lint: Bool
    /// Extra arguments of the Verilator builds.
    public var verilatorFlags = Batch.verilatorFlags
    /// A deliberate simulator error (for testing the checker itself).
    package var mutation: CircuitSimulator.Mutation?
    /// Seconds spent per tool (and "simulator", "lint").
    public private(set) var seconds: [String: Double] = [:]

    public init(tools: [Tool], lint: Bool = true) {
        self.tools = tools
        self.lint = lint
    }

    package init(tools: [Tool], lint: Bool, mutation: CircuitSimulator.Mutation?) {
        self.init(tools: tools, lint: lint)
        self.mutation = mutation
    }

    mutating func timed<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        defer { seconds[what, default: 0] += Date().timeIntervalSince(start) }
        return try body()
    }

    /// Every mismatch of the batch. Throws when the batch does not elaborate or a tool fails.
    public mutating func check(_ batch: Batch) throws -> [Mismatch] {
        let top = try batch.top()
        let files = try VerilogEmitter.emit(top)
        if lint {
            let sources = Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, Self.waived($0.text)) })
            try timed("lint") { try Lint.verilator(sources: sources, top: top.name) }
        }
        // The builds get every module in one file: Foundation syncs each file it writes, and
        // a thousand of them took seconds per tool. (Lint keeps one file per module, as emitted,
        // so that -Wall still checks file names.)
        let sources = ["\(top.name).v": Self.waived(files.map(\.text).joined(separator: "\n"))]
        let mutation = self.mutation, verilatorFlags = self.verilatorFlags
        let expected = try timed("simulator") { try batch.expected(top, mutation: mutation) }
        var mismatches: [Mismatch] = []
        for tool in tools {
            let got: [[[UInt64]?]] = try timed(tool.rawValue) {
                switch tool {
                case .verilator: try batch.verilator(top, sources: sources, flags: verilatorFlags)
                case .icarus: try batch.icarus(top, sources: sources)
                }
            }
            for c in 0..<batch.cycles {
                for k in batch.circuits.indices where got[c][k] != expected[c][k] {
                    mismatches.append(Mismatch(tool: tool, circuit: k, cycle: c, expected: expected[c][k], got: got[c][k]))
                }
            }
        }
        return mismatches
    }

    /// Verilator warnings waived in the random circuits. Both say that a comparison always gives
    /// the same answer (`x < 0` for unsigned x, or a constant past the end of x's range): random
    /// circuits compare with random constants all the time, and the emitter writes what the
    /// circuit says rather than folding it. Verilator treats them as errors in a build too, so
    /// each file starts with a `lint_off` comment for them; every other -Wall warning stays on.
    public static let lintWaivers = ["UNSIGNED", "CMPCONST"]

    static func waived(_ text: String) -> String {
        lintWaivers.map { "/* verilator lint_off \($0) */\n" }.joined() + text
    }

    /// The circuits of `batch` with at least one mismatch.
    public mutating func failing(_ batch: Batch) throws -> Set<Int> {
        Set(try check(batch).map(\.circuit))
    }
}

/// Cuts a failing circuit down: first the batch to the circuit, then the circuit to as few and
/// as narrow nodes as still fail. Each round puts every one-step reduction of the current
/// circuit into one batch (one build) and keeps the smallest that still fails.
public struct Shrinker {
    public var checker: Checker
    public var cycles: Int
    public var stimulusSeed: UInt64
    public var maxRounds = 40
    public var maxCandidates = 250
    public var log: (String) -> Void = { _ in }

    public init(checker: Checker, cycles: Int, stimulusSeed: UInt64) {
        self.checker = checker
        self.cycles = cycles
        self.stimulusSeed = stimulusSeed
    }

    func batch(_ circuits: [FuzzCircuit]) -> Batch {
        Batch(circuits: circuits, cycles: cycles, stimulusSeed: stimulusSeed)
    }

    /// The smallest set of the batch's circuits found that still fails, by halving.
    public mutating func isolate(_ circuits: [FuzzCircuit], failing k: Int) throws -> [FuzzCircuit] {
        if try !checker.failing(batch([circuits[k]])).isEmpty { return [circuits[k]] }
        var current = circuits
        while current.count > 1 {
            let half = current.count / 2
            let parts = [Array(current[..<half]), Array(current[half...])]
            guard let next = try parts.first(where: { try !checker.failing(batch($0)).isEmpty }) else { break }
            current = next
        }
        return current
    }

    /// The smallest failing variant of `circuit` found.
    public mutating func shrink(_ circuit: FuzzCircuit) throws -> FuzzCircuit {
        var best = Reduce.collect(circuit)
        var bestCost = Reduce.cost(best)
        for round in 0..<maxRounds {
            var rng = SplitMix64(seed: UInt64(round) &* 0x9E37_79B9)
            var candidates = Reduce.candidates(best).map(Reduce.collect).filter {
                Reduce.cost($0) < bestCost && (try? CircuitBuilder.define($0, name: "probe")) != nil
            }
            while candidates.count > maxCandidates { candidates.remove(at: rng.int(0...(candidates.count - 1))) }
            guard !candidates.isEmpty else { break }
            let failing = try checker.failing(batch(candidates))
            guard let pick = failing.min(by: { Reduce.cost(candidates[$0]) < Reduce.cost(candidates[$1]) }) else { break }
            best = candidates[pick]
            bestCost = Reduce.cost(best)
            log("shrink round \(round + 1): \(failing.count) of \(candidates.count) variants fail; smallest has \(best.size) nodes")
        }
        return best
    }
}

/// One-step reductions of a circuit, and the removal of what nothing reads.
enum Reduce {
    /// Nodes first, then widths.
    static func cost(_ c: FuzzCircuit) -> Int { c.size * 100_000 + widths(c) }

    static func widths(_ c: FuzzCircuit) -> Int {
        var total = c.memories.reduce(0) { $0 + $1.width + $1.depth }
        for node in c.nodes {
            switch node {
            case .input(let s, _), .constant(_, let s), .saturate(_, let s), .register(let s, _, _, _): total += s.width
            case .resize(_, _, let w): total += min(w, 4096)
            default: break
            }
        }
        return total + c.children.reduce(0) { $0 + widths($1) }
    }

    static func candidates(_ c: FuzzCircuit) -> [FuzzCircuit] {
        var out: [FuzzCircuit] = []
        func with(_ edit: (inout FuzzCircuit) -> Void) {
            var x = c
            edit(&x)
            out.append(x)
        }
        if c.outputs.count > 1 {
            for j in c.outputs.indices { with { $0.outputs.remove(at: j) } }
        }
        for (i, node) in c.nodes.enumerated() {
            if case .constant(0, .bit) = node {} else { with { $0.nodes[i] = .constant(0, .bit) } }
            for r in node.references.prefix(3) where r < i { with { $0.nodes[i] = .wire(r) } }
            let half: (Shape) -> Shape = { Shape(width: max(1, $0.width / 2), signed: $0.isSigned) }
            switch node {
            case .input(let s, let o) where s.width > 1: with { $0.nodes[i] = .input(half(s), offset: o) }
            case .constant(let v, let s) where s.width > 1: with { $0.nodes[i] = .constant(v, half(s)) }
            case .register(let s, let reset, let e, let n):
                if s.width > 1 { with { $0.nodes[i] = .register(half(s), reset: reset, enable: e, next: n) } }
                if e != nil { with { $0.nodes[i] = .register(s, reset: reset, enable: nil, next: n) } }
                if reset != nil { with { $0.nodes[i] = .register(s, reset: nil, enable: e, next: n) } }
            case .resize(let kind, let a, let w) where w > 1: with { $0.nodes[i] = .resize(kind, a, width: w / 2) }
            case .saturate(let a, let s) where s.width > 1: with { $0.nodes[i] = .saturate(a, half(s)) }
            case .cat(let parts) where parts.count > 2:
                for j in parts.indices { with { var p = parts; p.remove(at: j); $0.nodes[i] = .cat(p) } }
            case .select(let index, let cases, let d) where cases.count > 1:
                with { $0.nodes[i] = .select(index, Array(cases.prefix(cases.count / 2)), default: d) }
            default: break
            }
        }
        for (k, m) in c.memories.enumerated() {
            for j in m.writes.indices { with { $0.memories[k].writes.remove(at: j) } }
            if m.width > 1 { with { $0.memories[k].width = m.width / 2 } }
            if m.depth > 2 { with { $0.memories[k].depth = 2 } }
        }
        for (k, child) in c.children.enumerated() {
            for variant in candidates(child) where !variant.outputs.isEmpty { with { $0.children[k] = variant } }
        }
        return out
    }

    /// Drops nodes, memories and children that no output reaches, keeping the order. State
    /// elements and memory reads are outputs too (`keep`, see `CircuitBuilder.build`): a
    /// mismatch may be in them alone. Shrinking removes them by turning them into constants.
    static func collect(_ c: FuzzCircuit) -> FuzzCircuit {
        var live = Set<Int>()
        var liveMemories = Set<Int>()
        var work = c.outputs + c.nodes.indices.filter {
            if case .read = c.nodes[$0] { return true }
            return c.nodes[$0].isState
        }
        while let i = work.popLast() {
            guard live.insert(i).inserted else { continue }
            let node = c.nodes[i]
            work += node.references
            switch node {
            case .read(let k, _), .readSync(let k, _, _):
                if liveMemories.insert(k).inserted {
                    for w in c.memories[k].writes { work += [w.enable, w.address, w.data] }
                }
            default: break
            }
        }
        let kept = c.nodes.indices.filter { live.contains($0) }
        let index = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let memoryList = liveMemories.sorted()
        let memoryIndex = Dictionary(uniqueKeysWithValues: memoryList.enumerated().map { ($1, $0) })
        var childList: [Int] = []
        for i in kept { if case .instance(let k, _, _) = c.nodes[i], !childList.contains(k) { childList.append(k) } }
        childList.sort()
        let childIndex = Dictionary(uniqueKeysWithValues: childList.enumerated().map { ($1, $0) })
        let nodes: [FuzzNode] = kept.map { i in
            let node = c.nodes[i].mapReferences { index[$0]! }
            switch node {
            case .read(let k, let a): return .read(memory: memoryIndex[k]!, address: a)
            case .readSync(let k, let a, let e): return .readSync(memory: memoryIndex[k]!, address: a, enable: e)
            case .instance(let k, let inputs, let p): return .instance(child: childIndex[k]!, inputs: inputs, port: p)
            default: return node
            }
        }
        let memories = memoryList.map { k in
            var m = c.memories[k]
            m.writes = m.writes.map { (index[$0.enable]!, index[$0.address]!, index[$0.data]!) }
            return m
        }
        return FuzzCircuit(nodes: nodes, outputs: c.outputs.map { index[$0]! }, memories: memories,
                           children: childList.map { collect(c.children[$0]) })
    }
}
