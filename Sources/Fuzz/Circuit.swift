import HDL

/// A random circuit as data: a list of nodes that each use the DSL's operators once, so that it
/// can be rebuilt, cut down while shrinking, and printed. Nodes refer to other nodes by index.
/// A combinational node refers only to earlier nodes; a register's next value and a memory's
/// write ports may refer to any node (feedback goes through state, never around a loop).
///
/// Every reference is adapted to the shape its use needs when the circuit is built
/// (`CircuitBuilder.fit`), and out-of-range parameters (bit ranges, shift drops) are folded into
/// range, so any edit that keeps the reference order gives a valid circuit.
public struct FuzzCircuit: Sendable {
    public var nodes: [FuzzNode]
    /// Nodes driving the outputs `o0`, `o1`, ...
    public var outputs: [Int]
    public var memories: [FuzzMemory]
    /// Definitions used by `.instance` nodes.
    public var children: [FuzzCircuit]

    public init(nodes: [FuzzNode], outputs: [Int], memories: [FuzzMemory], children: [FuzzCircuit]) {
        self.nodes = nodes
        self.outputs = outputs
        self.memories = memories
        self.children = children
    }

    /// Nodes here and in the children: the size the shrinker makes smaller.
    public var size: Int { nodes.count + memories.count + children.reduce(0) { $0 + $1.size } }
}

public struct FuzzMemory: Sendable {
    public var width: Int
    public var depth: Int
    public var writes: [(enable: Int, address: Int, data: Int)]
}

public enum Unary: String, CaseIterable, Sendable {
    case not, negate, andReduce, orReduce, xorReduce, asSigned, asUnsigned, msb
}

public enum Binary: String, CaseIterable, Sendable {
    case add, sub, wrapAdd, wrapSub, mul, and, or, xor, eq, ne, lt, le, gt, ge, shl, shr
}

/// Operators with an integer right operand (`a + 3`, `a << 5`).
public enum WithInt: String, CaseIterable, Sendable {
    case add, sub, wrapAdd, wrapSub, and, or, xor, eq, ne, lt, le, gt, ge, shl, shr
}

public enum Resize: String, CaseIterable, Sendable {
    case extended, zeroExtended, signExtended, truncated
}

public enum Rounding: String, CaseIterable, Sendable {
    case truncate, nearestEven, stochastic
}

public enum FuzzNode: Sendable {
    /// A port of the circuit. At the top of a batch it reads the shared stimulus at `offset`.
    case input(Shape, offset: Int)
    case constant(Int128, Shape)
    case unary(Unary, Int)
    case binary(Binary, Int, Int)
    case withInt(WithInt, Int, Int)
    case bits(Int, hi: Int, lo: Int)
    case cat([Int])
    case mux(Int, Int, Int)
    /// `mux(select, value, literal)` or, with `literalFirst`, `mux(select, literal, value)`.
    case muxInt(Int, Int, literal: Int, literalFirst: Bool)
    case select(Int, [Int], default: Int)
    case resize(Resize, Int, width: Int)
    case saturate(Int, Shape)
    case roundShift(Int, drop: Int, Rounding, random: Int)
    /// A wire declared first and driven afterwards.
    case wire(Int)
    case register(Shape, reset: Int128?, enable: Int?, next: Int)
    case delay(Int, reset: Int128?, enable: Int?)
    case read(memory: Int, address: Int)
    case readSync(memory: Int, address: Int, enable: Int?)
    /// Output `port` of an instance of `children[child]`, its inputs driven by `inputs`.
    case instance(child: Int, inputs: [Int], port: Int)

    /// The nodes this one reads.
    public var references: [Int] {
        switch self {
        case .input, .constant: []
        case .unary(_, let a), .withInt(_, let a, _), .bits(let a, _, _), .resize(_, let a, _), .saturate(let a, _), .wire(let a):
            [a]
        case .binary(_, let a, let b): [a, b]
        case .cat(let parts): parts
        case .mux(let c, let t, let f): [c, t, f]
        case .muxInt(let c, let v, _, _): [c, v]
        case .select(let i, let cases, let d): [i] + cases + [d]
        case .roundShift(let a, _, _, let r): [a, r]
        case .register(_, _, let e, let n): [n] + (e.map { [$0] } ?? [])
        case .delay(let a, _, let e): [a] + (e.map { [$0] } ?? [])
        case .read(_, let a): [a]
        case .readSync(_, let a, let e): [a] + (e.map { [$0] } ?? [])
        case .instance(_, let inputs, _): inputs
        }
    }

    /// The same node reading `f(r)` for each reference `r`.
    public func mapReferences(_ f: (Int) -> Int) -> FuzzNode {
        switch self {
        case .input, .constant: self
        case .unary(let op, let a): .unary(op, f(a))
        case .binary(let op, let a, let b): .binary(op, f(a), f(b))
        case .withInt(let op, let a, let k): .withInt(op, f(a), k)
        case .bits(let a, let hi, let lo): .bits(f(a), hi: hi, lo: lo)
        case .cat(let parts): .cat(parts.map(f))
        case .mux(let c, let t, let e): .mux(f(c), f(t), f(e))
        case .muxInt(let c, let v, let k, let first): .muxInt(f(c), f(v), literal: k, literalFirst: first)
        case .select(let i, let cases, let d): .select(f(i), cases.map(f), default: f(d))
        case .resize(let kind, let a, let w): .resize(kind, f(a), width: w)
        case .saturate(let a, let shape): .saturate(f(a), shape)
        case .roundShift(let a, let drop, let mode, let r): .roundShift(f(a), drop: drop, mode, random: f(r))
        case .wire(let a): .wire(f(a))
        case .register(let shape, let reset, let e, let n): .register(shape, reset: reset, enable: e.map(f), next: f(n))
        case .delay(let a, let reset, let e): .delay(f(a), reset: reset, enable: e.map(f))
        case .read(let m, let a): .read(memory: m, address: f(a))
        case .readSync(let m, let a, let e): .readSync(memory: m, address: f(a), enable: e.map(f))
        case .instance(let c, let inputs, let p): .instance(child: c, inputs: inputs.map(f), port: p)
        }
    }

    /// References that may point forward: sampled on the clock edge, not read combinationally.
    public var sampledReferences: [Int] {
        if case .register(_, _, _, let next) = self { return [next] }
        return []
    }

    /// A state element the Icarus testbench must clear, with its Verilog name.
    var isState: Bool {
        switch self {
        case .register, .delay, .readSync: true
        default: false
        }
    }
}

/// Builds a `FuzzCircuit` with the DSL: the one path from data to hardware.
public enum CircuitBuilder {
    /// The Verilog name of node `i` when it is a register, delay or synchronous read.
    static func stateName(_ i: Int, _ node: FuzzNode) -> String {
        if case .readSync = node { return "q\(i)" }
        return "r\(i)"
    }

    /// Defines `circuit` as module `name`; children are named `name_s0`, `name_s1`, ...
    public static func define(_ circuit: FuzzCircuit, name: String) throws -> ModuleDefinition {
        let children = try circuit.children.enumerated().map { try define($1, name: "\(name)_s\($0)") }
        return try ModuleDefinition.define(name) { m in
            _ = build(circuit, children: children, in: m)
        }
    }

    /// Builds the circuit's nodes and outputs into `m`; returns the nodes' signals.
    @discardableResult
    static func build(_ c: FuzzCircuit, children: [ModuleDefinition], in m: ModuleBuilder) -> [Signal] {
        let memories = c.memories.enumerated().map { m.memory("mem\($0)", width: $1.width, depth: $1.depth) }
        var s: [Signal] = []
        var inputCount = 0
        for (i, node) in c.nodes.enumerated() {
            s.append(make(node, index: i, s, memories: memories, children: children, inputCount: &inputCount, in: m))
        }
        for (i, node) in c.nodes.enumerated() {
            if case .register(let shape, _, _, let next) = node { s[i].assign(fit(s[next], shape)) }
        }
        for (mem, spec) in zip(memories, c.memories) {
            for w in spec.writes {
                mem.write(address: address(s[w.address], mem), data: fit(s[w.data], .unsigned(mem.width)),
                          enable: fit(s[w.enable], .bit))
            }
        }
        for (j, o) in c.outputs.enumerated() {
            if j == 0 {
                // One output declared by shape and driven later, the other form of `output`.
                m.output("o0", s[o].shape).assign(s[o])
            } else {
                m.output("o\(j)", s[o])
            }
        }
        // Every state element reaches an output, so the emitter keeps it and the Icarus
        // testbench can clear it by name.
        let state = c.nodes.indices.filter { c.nodes[$0].isState }.map { s[$0] }
        let reads = c.nodes.indices.filter { if case .read = c.nodes[$0] { true } else { false } }.map { s[$0] }
        if !(state + reads).isEmpty { m.output("keep", cat(state + reads)) }
        return s
    }

    /// `s` truncated or extended to `shape`'s width, then read with its signedness.
    static func fit(_ s: Signal, _ shape: Shape) -> Signal {
        var x = s
        if x.width > shape.width { x = x.truncated(to: shape.width) } else if x.width < shape.width { x = x.extended(to: shape.width) }
        return shape.isSigned ? x.asSigned : x.asUnsigned
    }

    /// A memory address from any signal: past the end of a memory whose depth is not a power of
    /// two it reads 0, because Verilog leaves such reads undefined (Icarus gives x).
    static func address(_ s: Signal, _ mem: Memory) -> Signal {
        let a = fit(s, .unsigned(mem.addressWidth))
        if mem.depth == 1 << mem.addressWidth { return a }
        return mux(a .< mem.depth, a, 0)
    }

    /// `v` wrapped into `shape`'s range (shrinking may narrow a constant or register).
    static func fold(_ v: Int128, into shape: Shape) -> Int128 {
        if shape.contains(v) { return v }
        if shape.width >= 127 { return v & Int128.max }
        let bits = v & ((1 << shape.width) - 1)
        return shape.isSigned && bits > shape.maxValue ? bits - (1 << shape.width) : bits
    }

    static func make(_ node: FuzzNode, index i: Int, _ s: [Signal], memories: [Memory], children: [ModuleDefinition],
                     inputCount: inout Int, in m: ModuleBuilder) -> Signal {
        switch node {
        case .input(let shape, _):
            defer { inputCount += 1 }
            return m.input("i\(inputCount)", shape)
        case .constant(let v, let shape):
            return m.constant(fold(v, into: shape), shape)
        case .unary(let op, let a):
            let x = s[a]
            switch op {
            case .not: return ~x
            case .negate: return -x
            case .andReduce: return x.andReduce()
            case .orReduce: return x.orReduce()
            case .xorReduce: return x.xorReduce()
            case .asSigned: return x.asSigned
            case .asUnsigned: return x.asUnsigned
            case .msb: return x.msb
            }
        case .binary(let op, let a, let b):
            let x = s[a], y = s[b]
            switch op {
            case .add: return x + y
            case .sub: return x - y
            case .wrapAdd: return x &+ y
            case .wrapSub: return x &- y
            case .mul: return x * y
            case .and: return x & y
            case .or: return x | y
            case .xor: return x ^ y
            case .eq: return x .== y
            case .ne: return x .!= y
            case .lt: return x .< y
            case .le: return x .<= y
            case .gt: return x .> y
            case .ge: return x .>= y
            case .shl: return x << y
            case .shr: return x >> y
            }
        case .withInt(let op, let a, let k):
            let x = s[a]
            switch op {
            case .add: return x + k
            case .sub: return x - k
            case .wrapAdd: return x &+ k
            case .wrapSub: return x &- k
            case .and: return x & k
            case .or: return x | k
            case .xor: return x ^ k
            case .eq: return x .== k
            case .ne: return x .!= k
            case .lt: return x .< k
            case .le: return x .<= k
            case .gt: return x .> k
            case .ge: return x .>= k
            case .shl: return x << k
            case .shr: return x >> k
            }
        case .bits(let a, let hi, let lo):
            let x = s[a]
            let l = lo % x.width
            let h = l + hi % (x.width - l)
            return h == l && hi % 2 == 0 ? x.bit(l) : x.bits(h, l)
        case .cat(let parts):
            return cat(parts.map { s[$0] })
        case .mux(let c, let t, let f):
            return mux(fit(s[c], .bit), s[t], s[f])
        case .muxInt(let c, let v, let k, let first):
            return first ? mux(fit(s[c], .bit), k, s[v]) : mux(fit(s[c], .bit), s[v], k)
        case .select(let index, let cases, let d):
            let x = s[index]
            return select(fit(x, .unsigned(min(x.width, 3))), cases.map { s[$0] }.map { fit($0, s[d].shape) }, default: s[d])
        case .resize(let kind, let a, let w):
            let x = s[a]
            switch kind {
            case .extended: return x.extended(to: max(w, x.width))
            case .zeroExtended: return x.zeroExtended(to: max(w, x.width))
            case .signExtended: return x.signExtended(to: max(w, x.width))
            case .truncated: return x.truncated(to: min(w, x.width))
            }
        case .saturate(let a, let shape):
            return s[a].saturated(to: shape)
        case .roundShift(let a, let drop, let mode, let r):
            let x = s[a]
            let d = drop % x.width
            switch mode {
            case .truncate: return x.roundedShiftRight(by: d, mode: .truncate)
            case .nearestEven: return x.roundedShiftRight(by: d, mode: .nearestEven)
            case .stochastic: return x.roundedShiftRight(by: d, mode: .stochastic(random: fit(s[r], .unsigned(max(d, 1)))))
            }
        case .wire(let a):
            let w = m.wire("w\(i)", s[a].shape)
            w.assign(s[a])
            return w
        case .register(let shape, let reset, let e, _):
            return m.register("r\(i)", shape, reset: reset.map { fold($0, into: shape) }, enable: e.map { fit(s[$0], .bit) })
        case .delay(let a, let reset, let e):
            return m.delay(s[a], name: "r\(i)", reset: reset.map { fold($0, into: s[a].shape) }, enable: e.map { fit(s[$0], .bit) })
        case .read(let k, let a):
            return memories[k].read(address: address(s[a], memories[k]))
        case .readSync(let k, let a, let e):
            return memories[k].readSync(address: address(s[a], memories[k]), enable: e.map { fit(s[$0], .bit) }).named("q\(i)")
        case .instance(let k, let inputs, let port):
            let def = children[k]
            let ins = def.ports.filter { $0.direction == .input && $0.name != "clk" && $0.name != "rst" }
            var connections: [String: Signal] = [:]
            for (p, ref) in zip(ins, inputs) { connections[p.name] = fit(s[ref], p.shape) }
            for p in ins.dropFirst(inputs.count) { connections[p.name] = m.constant(0, p.shape) }
            let outs = def.ports.filter { $0.direction == .output }
            return m.instance(def, name: "u\(i)", connections)[outs[port % outs.count].name]
        }
    }
}
