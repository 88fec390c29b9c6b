/// A cycle simulator of an elaborated module and every module below it, in process.
///
/// It computes what the emitted Verilog computes (Sources/Verilog/Emitter.swift), bit for bit,
/// at any width: the hierarchy is flattened into one graph; each evaluation computes the
/// combinational nodes in topological order; `step` is one rising clock edge on which every
/// register, synchronous read port and memory write samples its inputs before any of them
/// changes (Verilog's nonblocking assignments). Registers with a reset value load it while `rst`
/// is high (synchronous, active high, before the enable). Memory write ports apply in
/// declaration order, so the last one wins when two write the same word in one cycle.
///
/// State the Verilog leaves undefined is defined here as Verilator builds it: registers,
/// synchronous read data and memory words start at zero; a read past the end of a memory gives
/// zero and a write there is dropped. The clock reads as 0 when used as data (between edges).
///
/// The interface follows Cosim's `Simulation` (poke, peek, step, run), so either can drive a
/// design; here nothing is built and no process is started.
public final class CircuitSimulator {
    public let top: ModuleDefinition
    /// Clock cycles stepped so far.
    public private(set) var cycle = 0

    /// Flattened nodes. A node's value lives at `offset[i]` in `values`, `width[i]` bits.
    private var ops: [FlatOp] = []
    private var widths: [Int] = []
    private var offsets: [Int] = []
    private var values: [UInt64] = []
    /// Combinational nodes, operands first.
    private var order: [Int] = []
    private var registers: [FlatRegister] = []
    private var syncReads: [FlatSyncRead] = []
    private var memories: [FlatMemory] = []
    private var memoryWords: [UInt64] = []
    /// Top-level input and output ports -> node.
    private var inputNodes: [String: Int] = [:]
    private var outputNodes: [String: Int] = [:]
    private var clockNode: Int?
    private var dirty = true
    private let mutation: Mutation?

    /// A deliberate error, for checking that a differential test notices a wrong simulator.
    package enum Mutation: Sendable {
        /// Inverts bit 0 of every result of this operator.
        case flipLowBit(BinaryOp)
    }

    public convenience init(_ top: ModuleDefinition) {
        self.init(top, mutation: nil)
    }

    package init(_ top: ModuleDefinition, mutation: Mutation?) {
        self.top = top
        self.mutation = mutation
        var flattener = Flattener()
        let root = flattener.add(top, inputs: [:])
        ops = flattener.ops
        widths = flattener.widths
        registers = flattener.registers
        syncReads = flattener.syncReads
        memories = flattener.memories
        // Copies (wires, ports, instance boundaries, signedness casts) are resolved away.
        func resolve(_ i: Int) -> Int {
            var j = i
            while case .copy(let k) = ops[j] { j = k }
            return j
        }
        for i in ops.indices { ops[i] = ops[i].mapOperands(resolve) }
        registers = registers.map { r in
            FlatRegister(node: r.node, next: resolve(r.next), enable: r.enable.map(resolve),
                         reset: r.reset.map(resolve), resetValue: r.resetValue)
        }
        syncReads = syncReads.map { FlatSyncRead(node: $0.node, memory: $0.memory, address: resolve($0.address), enable: $0.enable.map(resolve)) }
        memories = memories.map { m in
            var m = m
            m.writes = m.writes.map { (resolve($0.enable), resolve($0.address), resolve($0.data)) }
            return m
        }
        for port in top.ports {
            guard let s = root[port.name] else { continue }
            if port.direction == .input { inputNodes[port.name] = resolve(s) } else { outputNodes[port.name] = resolve(s) }
        }
        clockNode = top.usesClock ? inputNodes["clk"] : nil

        var offset = 0
        for w in widths {
            offsets.append(offset)
            offset += Words.count(w)
        }
        values = Array(repeating: 0, count: offset)
        var memoryOffset = 0
        for i in memories.indices {
            memories[i].offset = memoryOffset
            memoryOffset += memories[i].depth * Words.count(memories[i].width)
        }
        memoryWords = Array(repeating: 0, count: memoryOffset)
        values.withUnsafeMutableBufferPointer { v in
            for (i, op) in ops.enumerated() {
                if case .constant(let c) = op { Words.store(c, into: v.baseAddress! + offsets[i], widths[i]) }
            }
        }
        order = topologicalOrder()
    }

    // MARK: Ports

    /// Sets an input (two's complement, masked to the port width; wider ports are sign-extended).
    public func poke(_ port: String, _ value: Int128) throws {
        let i = try inputNode(port)
        values.withUnsafeMutableBufferPointer { Words.store(value, into: $0.baseAddress! + offsets[i], widths[i]) }
        dirty = true
    }

    /// Sets an input of any width from 64-bit words, least significant first (missing words are
    /// zero, bits above the width are dropped).
    public func poke(_ port: String, words: [UInt64]) throws {
        let i = try inputNode(port)
        let n = Words.count(widths[i])
        for k in 0..<n { values[offsets[i] + k] = k < words.count ? words[k] : 0 }
        values[offsets[i] + n - 1] &= Words.topMask(widths[i])
        dirty = true
    }

    /// Reads a port as 64-bit words, least significant first.
    public func peek(_ port: String) throws -> [UInt64] {
        guard let i = outputNodes[port] ?? inputNodes[port] else { throw SimulatorError.unknownPort(port, top: top.name) }
        evaluate()
        return Array(values[offsets[i]..<offsets[i] + Words.count(widths[i])])
    }

    /// Reads a port of up to 127 bits as an unsigned number.
    public func peekUnsigned(_ port: String) throws -> Int128 {
        let w = try peek(port)
        guard w.count <= 2, width(of: port) <= 127 else { throw SimulatorError.tooWide(port, width: width(of: port)) }
        return Int128(w[0]) | (w.count > 1 ? Int128(w[1]) << 64 : 0)
    }

    /// Reads a port of up to 128 bits as a two's-complement number.
    public func peekSigned(_ port: String) throws -> Int128 {
        let width = width(of: port)
        let w = try peek(port)
        guard width <= 128 else { throw SimulatorError.tooWide(port, width: width) }
        var v = UInt128(w[0]) | (w.count > 1 ? UInt128(w[1]) << 64 : 0)
        if width < 128, (v >> (width - 1)) & 1 == 1 { v |= ~UInt128(0) << width }
        return Int128(bitPattern: v)
    }

    private func width(of port: String) -> Int { top.ports.first { $0.name == port }?.shape.width ?? 0 }

    private func inputNode(_ port: String) throws -> Int {
        guard let i = inputNodes[port] else {
            if outputNodes[port] != nil { throw SimulatorError.notAnInput(port, top: top.name) }
            throw SimulatorError.unknownPort(port, top: top.name)
        }
        if i == clockNode { throw SimulatorError.clockPoked(port, top: top.name) }
        return i
    }

    // MARK: State

    /// Sets every register, synchronous read and memory word to random bits from `generator`,
    /// as real silicon (and Verilator's `+verilator+rand+reset+2`) may start: designs are
    /// checked from any state, not only from zero.
    public func randomizeState<G: RandomNumberGenerator>(using generator: inout G) {
        for node in registers.map(\.node) + syncReads.map(\.node) {
            let n = Words.count(widths[node])
            for j in 0..<n { values[offsets[node] + j] = generator.next() }
            values[offsets[node] + n - 1] &= Words.topMask(widths[node])
        }
        for m in memories {
            let n = Words.count(m.width)
            for word in 0..<m.depth {
                for j in 0..<n { memoryWords[m.offset + word * n + j] = generator.next() }
                memoryWords[m.offset + word * n + n - 1] &= Words.topMask(m.width)
            }
        }
        dirty = true
    }

    // MARK: Time

    /// Settles the combinational logic after pokes (peek and step do it when needed).
    public func eval() { evaluate() }

    /// Full clock cycles: each a rising edge, after which the logic settles again.
    public func step(_ cycles: Int = 1) throws {
        guard cycles >= 0 else { throw SimulatorError.usage("step: negative cycle count \(cycles)") }
        guard top.usesClock else { throw SimulatorError.usage("step: module '\(top.name)' has no clock") }
        for _ in 0..<cycles { clockEdge() }
    }

    /// Bulk mode, as Cosim's `Simulation.run`: for each cycle, apply one row of input words (the
    /// given ports, in order; one word per 64 bits), sample `outputs` before the edge, then step.
    public func run(cycles: Int, inputs: [String], values rows: [UInt64], outputs: [String]) throws -> [UInt64] {
        let ins = try inputs.map { try inputNode($0) }
        let outs = try outputs.map { port -> Int in
            guard let i = outputNodes[port] ?? inputNodes[port] else { throw SimulatorError.unknownPort(port, top: top.name) }
            return i
        }
        let inWords = ins.reduce(0) { $0 + Words.count(widths[$1]) }
        guard rows.count == cycles * inWords else {
            throw SimulatorError.usage("run: expected \(cycles) rows of \(inWords) words, got \(rows.count) values")
        }
        var result: [UInt64] = []
        result.reserveCapacity(cycles * outs.reduce(0) { $0 + Words.count(widths[$1]) })
        var k = 0
        for _ in 0..<cycles {
            for i in ins {
                let n = Words.count(widths[i])
                for j in 0..<n { values[offsets[i] + j] = rows[k + j] }
                values[offsets[i] + n - 1] &= Words.topMask(widths[i])
                k += n
            }
            dirty = true
            evaluate()
            for o in outs { result += values[offsets[o]..<offsets[o] + Words.count(widths[o])] }
            try step()
        }
        return result
    }

    // MARK: Evaluation

    private func evaluate() {
        guard dirty else { return }
        dirty = false
        values.withUnsafeMutableBufferPointer { buffer in
            let v = buffer.baseAddress!
            memoryWords.withUnsafeMutableBufferPointer { memoryBuffer in
                let mem = memoryBuffer.baseAddress!
                for i in order { compute(i, v, mem) }
            }
        }
    }

    private func compute(_ i: Int, _ v: Words.Ptr, _ mem: Words.Ptr) {
        let d = v + offsets[i], w = widths[i]
        func p(_ k: Int) -> Words.Ptr { v + offsets[k] }
        switch ops[i] {
        case .input, .constant, .state, .copy:
            break
        case .not(let a):
            Words.not(d, p(a), w)
        case .reduce(let op, let a):
            d[0] = Words.reduce(op, p(a), widths[a]) ? 1 : 0
        case .binary(let op, let a, let b, let signed):
            binary(op, d, p(a), p(b), widths[a], widths[b], signed: signed)
            if case .flipLowBit(let bad) = mutation, bad == op { d[0] ^= 1 }
        case .mux(let c, let t, let f):
            Words.copy(d, p(p(c)[0] & 1 == 1 ? t : f), w)
        case .concat(let parts):
            Words.clear(d, w)
            var position = w
            for part in parts {
                position -= widths[part]
                Words.insert(d, at: position, p(part), widths[part])
            }
        case .slice(let a, let lo):
            Words.slice(d, w, p(a), widths[a], lo: lo)
        case .extend(let a, let signed):
            Words.extend(d, w, p(a), widths[a], signed: signed)
        case .memoryRead(let m, let address):
            read(memories[m], at: p(address), widths[address], into: d, mem)
        }
    }

    private func binary(_ op: BinaryOp, _ d: Words.Ptr, _ a: Words.Ptr, _ b: Words.Ptr, _ wa: Int, _ wb: Int, signed: Bool) {
        switch op {
        case .add: Words.add(d, a, b, wa)
        case .sub: Words.sub(d, a, b, wa)
        case .mul: Words.mul(d, a, b, wa)
        case .and: Words.and(d, a, b, wa)
        case .or: Words.or(d, a, b, wa)
        case .xor: Words.xor(d, a, b, wa)
        case .eq: d[0] = Words.equal(a, b, wa) ? 1 : 0
        case .ne: d[0] = Words.equal(a, b, wa) ? 0 : 1
        case .lt: d[0] = Words.compare(a, b, wa, signed: signed) < 0 ? 1 : 0
        case .le: d[0] = Words.compare(a, b, wa, signed: signed) <= 0 ? 1 : 0
        case .shl: Words.shiftLeft(d, a, wa, by: b, wb)
        case .shr: Words.shiftRight(d, a, wa, by: b, wb, signed: signed)
        }
    }

    private func read(_ m: FlatMemory, at address: Words.Ptr, _ addressWidth: Int, into d: Words.Ptr, _ mem: Words.Ptr) {
        let n = Words.count(m.width)
        if let index = Words.smallValue(address, addressWidth, below: m.depth) {
            d.update(from: mem + m.offset + index * n, count: n)
        } else {
            d.update(repeating: 0, count: n)
        }
    }

    /// One rising edge: every clocked element samples, then all of them update.
    private func clockEdge() {
        evaluate()
        var sampled: [UInt64] = []
        var writes: [(at: Int, from: Int, count: Int)] = []  // memoryWords <- sampled
        values.withUnsafeMutableBufferPointer { buffer in
            let v = buffer.baseAddress!
            func p(_ k: Int) -> Words.Ptr { v + offsets[k] }
            func high(_ k: Int) -> Bool { p(k)[0] & 1 == 1 }
            for r in registers {
                let n = Words.count(widths[r.node])
                if let rst = r.reset, high(rst) {
                    sampled += r.resetValue
                } else if r.enable.map(high) ?? true {
                    sampled += UnsafeBufferPointer(start: p(r.next), count: n)
                } else {
                    sampled += UnsafeBufferPointer(start: p(r.node), count: n)
                }
            }
            memoryWords.withUnsafeMutableBufferPointer { memoryBuffer in
                let mem = memoryBuffer.baseAddress!
                for s in syncReads {
                    let n = Words.count(widths[s.node])
                    if s.enable.map(high) ?? true {
                        let start = sampled.count
                        sampled += Array(repeating: 0, count: n)
                        sampled.withUnsafeMutableBufferPointer { out in
                            read(memories[s.memory], at: p(s.address), widths[s.address], into: out.baseAddress! + start, mem)
                        }
                    } else {
                        sampled += UnsafeBufferPointer(start: p(s.node), count: n)
                    }
                }
            }
            for m in memories {
                let n = Words.count(m.width)
                for wr in m.writes where high(wr.enable) {
                    guard let index = Words.smallValue(p(wr.address), widths[wr.address], below: m.depth) else { continue }
                    writes.append((m.offset + index * n, sampled.count, n))
                    sampled += UnsafeBufferPointer(start: p(wr.data), count: n)
                }
            }
        }
        // Commit in the order sampled.
        var k = 0
        for r in registers {
            let n = Words.count(widths[r.node])
            for j in 0..<n { values[offsets[r.node] + j] = sampled[k + j] }
            k += n
        }
        for s in syncReads {
            let n = Words.count(widths[s.node])
            for j in 0..<n { values[offsets[s.node] + j] = sampled[k + j] }
            k += n
        }
        for wr in writes {
            for j in 0..<wr.count { memoryWords[wr.at + j] = sampled[wr.from + j] }
        }
        cycle += 1
        dirty = true
    }

    /// Depth-first order over combinational operands (the checks already refused loops).
    private func topologicalOrder() -> [Int] {
        var state = [UInt8](repeating: 0, count: ops.count)  // 0 new, 1 open, 2 done
        var result: [Int] = []
        result.reserveCapacity(ops.count)
        for root in ops.indices where state[root] == 0 {
            var stack: [(node: Int, next: Int)] = [(root, 0)]
            state[root] = 1
            while let (node, i) = stack.last {
                let operands = ops[node].operands
                if i == operands.count {
                    stack.removeLast()
                    state[node] = 2
                    if ops[node].isComputed { result.append(node) }
                    continue
                }
                stack[stack.count - 1].next = i + 1
                let k = operands[i]
                if state[k] == 0 {
                    state[k] = 1
                    stack.append((k, 0))
                }
            }
        }
        return result
    }
}

public enum SimulatorError: Error, CustomStringConvertible {
    case unknownPort(String, top: String)
    case notAnInput(String, top: String)
    case clockPoked(String, top: String)
    case tooWide(String, width: Int)
    case usage(String)

    public var description: String {
        switch self {
        case .unknownPort(let p, let top): "module '\(top)' has no port '\(p)'"
        case .notAnInput(let p, let top): "port '\(p)' of '\(top)' is an output and cannot be poked"
        case .clockPoked(let p, let top): "port '\(p)' is the clock of '\(top)': it is driven by step/run"
        case .tooWide(let p, let width): "port '\(p)' is \(width) bits wide; use peek(_:) for the words"
        case .usage(let message): message
        }
    }
}

// MARK: - The flat graph

enum FlatOp {
    case input
    case constant(Int128)
    /// A register or synchronous read port: changes only on the clock edge.
    case state
    /// The same value as another node (resolved away after flattening).
    case copy(Int)
    case not(Int)
    case reduce(ReduceOp, Int)
    case binary(BinaryOp, Int, Int, signed: Bool)
    case mux(Int, Int, Int)
    case concat([Int])
    case slice(Int, lo: Int)
    case extend(Int, signed: Bool)
    case memoryRead(Int, address: Int)

    var operands: [Int] {
        switch self {
        case .input, .constant, .state: []
        case .copy(let a), .not(let a), .reduce(_, let a), .slice(let a, _), .extend(let a, _): [a]
        case .binary(_, let a, let b, _): [a, b]
        case .mux(let c, let t, let f): [c, t, f]
        case .concat(let parts): parts
        case .memoryRead(_, let address): [address]
        }
    }

    var isComputed: Bool {
        switch self {
        case .input, .constant, .state, .copy: false
        default: true
        }
    }

    func mapOperands(_ f: (Int) -> Int) -> FlatOp {
        switch self {
        case .input, .constant, .state: self
        case .copy(let a): .copy(f(a))
        case .not(let a): .not(f(a))
        case .reduce(let op, let a): .reduce(op, f(a))
        case .binary(let op, let a, let b, let s): .binary(op, f(a), f(b), signed: s)
        case .mux(let c, let t, let e): .mux(f(c), f(t), f(e))
        case .concat(let parts): .concat(parts.map(f))
        case .slice(let a, let lo): .slice(f(a), lo: lo)
        case .extend(let a, let s): .extend(f(a), signed: s)
        case .memoryRead(let m, let address): .memoryRead(m, address: f(address))
        }
    }
}

struct FlatRegister {
    let node: Int, next: Int, enable: Int?, reset: Int?
    /// The reset value's words (empty when `reset` is nil).
    let resetValue: [UInt64]
}

struct FlatSyncRead {
    let node: Int, memory: Int, address: Int, enable: Int?
}

struct FlatMemory {
    let width: Int, depth: Int
    var writes: [(enable: Int, address: Int, data: Int)]
    var offset = 0
}

/// Copies every module instance's nodes into one graph; ports become copies.
struct Flattener {
    var ops: [FlatOp] = []
    var widths: [Int] = []
    var registers: [FlatRegister] = []
    var syncReads: [FlatSyncRead] = []
    var memories: [FlatMemory] = []

    /// Adds one instance of `d` whose input ports read the given nodes (top level: none, the
    /// inputs become poke-able nodes) and whose parameters have the given values (bit patterns;
    /// a missing one keeps its default). Returns port name -> node.
    mutating func add(_ d: ModuleDefinition, inputs: [String: Int], parameters given: [String: Int128] = [:]) -> [String: Int] {
        var parameters: [String: Int128] = [:]
        for p in d.parameters { parameters[p.name] = given[p.name] ?? p.defaultValue }
        let base = ops.count
        func node(_ s: Signal) -> Int { base + s.id }
        for s in d.signals {
            widths.append(s.width)
            ops.append(.input)  // placeholder, set below
        }
        var memoryIndex: [ObjectIdentifier: Int] = [:]
        for m in d.memories {
            memoryIndex[ObjectIdentifier(m)] = memories.count
            memories.append(FlatMemory(width: m.width, depth: m.depth,
                                       writes: m.writes.map { (node($0.enable), node($0.address), node($0.data)) }))
        }
        let reset = d.resetSignal.map(node)
        var childOutputs: [ObjectIdentifier: [String: Int]] = [:]
        for inst in d.instances {
            let connected = Dictionary(uniqueKeysWithValues: inst.inputs.map { ($0.port, node($0.signal)) })
            var values: [String: Int128] = [:]
            for (name, value) in inst.parameters {
                switch value.op {
                case .constant(let v): values[name] = v
                case .parameter(let mine): values[name] = parameters[mine]
                default: break  // refused when the instance was made
                }
            }
            childOutputs[ObjectIdentifier(inst)] = add(inst.definition, inputs: connected, parameters: values)
        }
        for s in d.signals {
            let i = node(s)
            switch s.op {
            case .input(let port): ops[i] = inputs[port].map { .copy($0) } ?? .input
            case .constant(let v): ops[i] = .constant(v)
            case .parameter(let name): ops[i] = .constant(parameters[name]!)
            case .wire(let c): ops[i] = .copy(node(c.driver!))
            case .register(let r):
                ops[i] = .state
                var words = [UInt64](repeating: 0, count: Words.count(s.width))
                if let v = r.resetParameter.map({ parameters[$0]! }) ?? r.resetValue { words.withUnsafeMutableBufferPointer { Words.store(v, into: $0.baseAddress!, s.width) } }
                registers.append(FlatRegister(node: i, next: node(r.next.driver!), enable: r.enable.map(node),
                                              reset: r.resetValue == nil ? nil : reset, resetValue: r.resetValue == nil ? [] : words))
            case .not(let a): ops[i] = .not(node(a))
            case .reduce(let op, let a): ops[i] = .reduce(op, node(a))
            case .binary(let op, let a, let b): ops[i] = .binary(op, node(a), node(b), signed: a.isSigned)
            case .mux(let c, let t, let f): ops[i] = .mux(node(c), node(t), node(f))
            case .concat(let parts): ops[i] = .concat(parts.map(node))
            case .slice(let a, let hi, let lo):
                ops[i] = lo == 0 && hi == a.width - 1 ? .copy(node(a)) : .slice(node(a), lo: lo)
            case .extend(let a): ops[i] = .extend(node(a), signed: a.isSigned)
            case .memoryRead(let m, let address): ops[i] = .memoryRead(memoryIndex[ObjectIdentifier(m)]!, address: node(address))
            case .memoryReadSync(let m, let address, let enable):
                ops[i] = .state
                syncReads.append(FlatSyncRead(node: i, memory: memoryIndex[ObjectIdentifier(m)]!, address: node(address), enable: enable.map(node)))
            case .instanceOutput(let inst, let port):
                ops[i] = .copy(childOutputs[ObjectIdentifier(inst)]![port]!)
            }
        }
        var ports: [String: Int] = [:]
        for s in d.signals { if case .input(let port) = s.op { ports[port] = node(s) } }
        for (port, s) in d.outputs { ports[port] = node(s) }
        return ports
    }
}
