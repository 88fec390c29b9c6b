/// An elaborated, checked module. Immutable once made; instantiate it as often as needed (each
/// distinct definition is emitted once).
public final class ModuleDefinition {
    public let name: String
    public let location: SourceLocation
    /// `clk` and `rst` first (when used), then inputs and outputs in declaration order.
    public let ports: [Port]
    /// Verilog `parameter`s: per-instance constants (such as an LFSR's seed) that cost no logic.
    public let parameters: [ModuleParameter]
    /// Every node in creation order.
    public let signals: [Signal]
    public let outputs: [(name: String, signal: Signal)]
    /// Where each output was declared.
    public let outputLocations: [String: SourceLocation]
    public let memories: [Memory]
    public let instances: [Instance]
    public let usesClock: Bool
    public let usesReset: Bool
    /// The implicit `rst` input, when the module has one.
    public let resetSignal: Signal?
    /// For each output, the inputs it depends on without a register in between.
    public let combinationalInputs: [String: Set<String>]
    private let builder: ModuleBuilder  // keeps the graph's unowned back references alive

    /// Builds a module with `body` and runs the elaboration checks: connection widths, undriven
    /// wires and outputs, multiple drivers, combinational loops, illegal or duplicate names.
    public static func define(_ name: String, file: String = #fileID, line: Int = #line,
                              _ body: (ModuleBuilder) throws -> Void) throws -> ModuleDefinition {
        let here = SourceLocation(file: file, line: line)
        let m = ModuleBuilder(name: name)
        if let problem = Names.problem(with: name) { m.error("module name \(problem)", at: here) }
        try body(m)
        m.checkImplicitPortNames()
        let definition = ModuleDefinition(m, at: here)
        Checks.run(definition, builder: m)
        guard m.diagnostics.isEmpty else { throw ElaborationError(module: name, diagnostics: m.diagnostics) }
        return definition
    }

    private init(_ m: ModuleBuilder, at here: SourceLocation) {
        name = m.name
        location = here
        builder = m
        // A port's name is the one it was declared with; `named` only renames the node.
        var ports = m.clockAndReset.map { Port(name: $0.portName!, shape: $0.shape, direction: .input) }
        ports += m.inputs.map { Port(name: $0.portName!, shape: $0.shape, direction: .input) }
        ports += m.outputs.map { Port(name: $0.name, shape: $0.signal.shape, direction: .output) }
        self.ports = ports
        parameters = m.parameters
        signals = m.signals
        outputs = m.outputs.map { ($0.name, $0.signal) }
        outputLocations = Dictionary(m.outputs.map { ($0.name, $0.location) }, uniquingKeysWith: { a, _ in a })
        memories = m.memories
        instances = m.instances
        usesClock = m.usesClock
        usesReset = m.usesReset
        resetSignal = m.clockAndReset.first { $0.portName == "rst" }
        combinationalInputs = Checks.combinationalInputs(outputs: m.outputs.map { ($0.name, $0.signal) })
    }

    /// This module and every module below it, each once, children before parents.
    /// Two different definitions may not share a name.
    public func hierarchy() throws -> [ModuleDefinition] {
        var order: [ModuleDefinition] = []
        var seen: [String: ModuleDefinition] = [:]
        func visit(_ d: ModuleDefinition, from location: SourceLocation?) throws {
            if let other = seen[d.name] {
                if other !== d && other.fingerprint != d.fingerprint {
                    throw ElaborationError(module: d.name, diagnostics: [Diagnostic(
                        message: "two different modules are both named '\(d.name)' (the other was defined at \(other.location)); give each configuration its own name",
                        location: d.location)])
                }
                // Equal structure, but the children may still be different same-named modules.
                if other !== d { for inst in d.instances { try visit(inst.definition, from: inst.location) } }
                return
            }
            seen[d.name] = d
            for inst in d.instances { try visit(inst.definition, from: inst.location) }
            order.append(d)
        }
        try visit(self, from: nil)
        return order
    }

    /// A structural summary, used only to tell whether two same-named definitions are the same.
    lazy var fingerprint: String = {
        var s = ports.map { "\($0.direction) \($0.name) \($0.shape)" }.joined(separator: ";")
        s += "|param:" + parameters.map { "\($0.name) \($0.shape)=\($0.defaultValue)" }.joined(separator: ",")
        for sig in signals {
            s += "|\(sig.shape)\(sig.kind)"
            switch sig.op {
            case .constant(let v): s += "=\(v)"
            case .parameter(let name): s += "=\(name)"
            case .binary(_, let a, let b): s += "(\(a.id),\(b.id))"
            case .mux(let c, let t, let f): s += "(\(c.id),\(t.id),\(f.id))"
            case .concat(let parts): s += "(" + parts.map { String($0.id) }.joined(separator: ",") + ")"
            case .slice(let a, let hi, let lo): s += "(\(a.id),\(hi),\(lo))"
            case .not(let a), .reduce(_, let a), .extend(let a): s += "(\(a.id))"
            case .wire(let c): s += "(\(c.driver?.id ?? -1))"
            case .register(let r): s += "(\(r.next.driver?.id ?? -1),\(r.enable?.id ?? -1),\(r.resetValue.map { String($0) } ?? "-"),\(r.resetParameter ?? "-"))"
            case .instanceOutput(let i, let p): s += "(\(i.definition.name).\(p))"
            case .memoryRead(let mem, let a): s += "(\(mem.name),\(a.id))"
            case .memoryReadSync(let mem, let a, let e): s += "(\(mem.name),\(a.id),\(e?.id ?? -1))"
            case .input: break
            }
        }
        // Which node drives each output, what feeds each instance, and the memories' contents.
        s += "|out:" + outputs.map { "\($0.name)=\($0.signal.id)" }.joined(separator: ",")
        for inst in instances {
            s += "|inst \(inst.name):\(inst.definition.name)(" + inst.inputs.map { "\($0.port)=\($0.signal.id)" }.joined(separator: ",") + ")"
            s += "#(" + inst.parameters.map { "\($0.name)=\($0.value.id)" }.joined(separator: ",") + ")"
        }
        for mem in memories {
            s += "|mem \(mem.name) \(mem.width)x\(mem.depth):" + mem.writes.map { "\($0.enable.id),\($0.address.id),\($0.data.id)" }.joined(separator: ";")
        }
        return s
    }()
}

/// The combinational operands of a node: what its value depends on within the same cycle.
extension Signal {
    /// The declared name of an input port (nil for other nodes).
    var portName: String? {
        if case .input(let port) = op { return port }
        return nil
    }

    public var combinationalOperands: [Signal] {
        switch op {
        case .input, .constant, .parameter, .register, .memoryReadSync: return []
        case .wire(let c): return c.driver.map { [$0] } ?? []
        case .not(let a), .reduce(_, let a), .extend(let a), .slice(let a, _, _): return [a]
        case .binary(_, let a, let b): return [a, b]
        case .mux(let c, let t, let f): return [c, t, f]
        case .concat(let parts): return parts
        case .memoryRead(_, let address): return [address]
        case .instanceOutput(let inst, let port):
            let deps = inst.definition.combinationalInputs[port] ?? []
            return inst.inputs.filter { deps.contains($0.port) }.map(\.signal)
        }
    }

    /// Each of `allOperands`, in the same order, without building the array (the emitter walks
    /// every node of a 128×128 array several times).
    public func forEachOperand(_ body: (Signal) -> Void) {
        switch op {
        case .register(let r):
            if let next = r.next.driver { body(next) }
            if let enable = r.enable { body(enable) }
        case .memoryReadSync(_, let address, let enable):
            body(address)
            if let enable { body(enable) }
        case .instanceOutput(let inst, _): for input in inst.inputs { body(input.signal) }
        case .input, .constant, .parameter: break
        case .wire(let c): if let driver = c.driver { body(driver) }
        case .not(let a), .reduce(_, let a), .extend(let a), .slice(let a, _, _): body(a)
        case .binary(_, let a, let b):
            body(a)
            body(b)
        case .mux(let c, let t, let f):
            body(c)
            body(t)
            body(f)
        case .concat(let parts): for p in parts { body(p) }
        case .memoryRead(_, let address): body(address)
        }
    }

    /// Every operand, including those sampled by a register or memory port.
    public var allOperands: [Signal] {
        switch op {
        case .register(let r): return [r.next.driver, r.enable].compactMap { $0 }
        case .memoryReadSync(_, let a, let e): return [a, e].compactMap { $0 }
        case .instanceOutput(let inst, _): return inst.inputs.map(\.signal)
        default: return combinationalOperands
        }
    }
}

enum Checks {
    static func run(_ d: ModuleDefinition, builder m: ModuleBuilder) {
        for s in d.signals {
            switch s.op {
            case .wire(let c) where c.driver == nil:
                let role = d.outputs.contains { $0.signal === s } ? "output" : "wire"
                m.error("undriven \(role): '\(s.name ?? "?")' (\(s.shape)) is never assigned", at: s.location)
            case .register(let r) where r.next.driver == nil:
                m.error("register '\(s.name ?? "?")' (\(s.shape)) has no next value; assign one", at: s.location)
            default: break
            }
        }
        findLoop(d, builder: m)
    }

    /// Depth-first search over combinational edges; reports the first cycle with its path.
    static func findLoop(_ d: ModuleDefinition, builder m: ModuleBuilder) {
        var state = [Int](repeating: 0, count: d.signals.count)  // 0 new, 1 on stack, 2 done
        var path: [Signal] = []
        for root in d.signals where state[root.id] == 0 {
            // Iterative DFS: (node, next operand index).
            var stack: [(Signal, Int)] = [(root, 0)]
            state[root.id] = 1
            path = [root]
            while let (node, i) = stack.last {
                let operands = node.combinationalOperands
                if i == operands.count {
                    state[node.id] = 2
                    stack.removeLast()
                    path.removeLast()
                    continue
                }
                stack[stack.count - 1].1 = i + 1
                let next = operands[i]
                if state[next.id] == 1 {
                    let start = path.firstIndex { $0 === next }!
                    let cycle = Array(path[start...]) + [next]
                    let named = cycle.filter { $0.location != nil }
                    let text = cycle.reversed().map(\.description).joined(separator: " -> ")
                    m.error("combinational loop: \(text)", at: named.first?.location)
                    return
                }
                if state[next.id] == 0 {
                    state[next.id] = 1
                    stack.append((next, 0))
                    path.append(next)
                }
            }
        }
    }

    static func combinationalInputs(outputs: [(String, Signal)]) -> [String: Set<String>] {
        var memo: [ObjectIdentifier: Set<String>] = [:]
        func inputs(of root: Signal) -> Set<String> {
            var result: Set<String> = []
            var seen: Set<ObjectIdentifier> = []
            var work = [root]
            while let s = work.popLast() {
                guard seen.insert(ObjectIdentifier(s)).inserted else { continue }
                if let known = memo[ObjectIdentifier(s)] { result.formUnion(known); continue }
                if case .input(let name) = s.op { result.insert(name) }
                work += s.combinationalOperands
            }
            memo[ObjectIdentifier(root)] = result
            return result
        }
        var map: [String: Set<String>] = [:]
        for (name, s) in outputs { map[name] = inputs(of: s) }
        return map
    }
}
