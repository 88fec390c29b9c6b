import HDL
import Runtime

/// Makes random circuits that use every operator of the DSL on mixed widths and signedness,
/// with registers (with and without reset and enable), memories (combinational and
/// synchronous reads, several write ports) and instances of smaller random circuits.
///
/// Nodes are built as they are chosen, in a scratch module, so each choice can look at the
/// shapes of the nodes before it (bit ranges inside the operand, no product wider than
/// `maxWidth`).
public struct CircuitGenerator {
    public var maxNodes = 16
    /// Widest node kept; wider results are dropped and another node is drawn.
    public var maxWidth = 300
    /// Instance nesting below the top circuit.
    public var maxDepth = 2

    public init() {}

    struct Abandon: Error {}

    public func circuit(_ rng: inout SplitMix64, depth: Int = 0) throws -> FuzzCircuit {
        var c = FuzzCircuit(nodes: [], outputs: [], memories: [], children: [])
        if depth < maxDepth && rng.chance(depth == 0 ? 0.35 : 0.2) {
            var child = self
            child.maxNodes = max(4, maxNodes / 2)
            for _ in 0..<rng.int(1...2) { c.children.append(try child.circuit(&rng, depth: depth + 1)) }
        }
        let childDefinitions = try c.children.enumerated().map { try CircuitBuilder.define($1, name: "scratch_s\($0)") }
        if rng.chance(0.3) {
            for _ in 0..<rng.int(1...2) {
                c.memories.append(FuzzMemory(width: randomWidth(&rng), depth: rng.int(2...20), writes: []))
            }
        }
        var rng2 = rng
        do {
            _ = try ModuleDefinition.define("scratch") { m in
                fill(&c, children: childDefinitions, &rng2, in: m)
                throw Abandon()  // the scratch module only served to learn shapes
            }
        } catch is Abandon {}
        rng = rng2
        return c
    }

    func randomWidth(_ rng: inout SplitMix64) -> Int {
        switch rng.int(0...19) {
        case 0...10: return rng.int(1...16)
        case 11...16: return rng.int(17...70)
        default: return rng.int(71...200)
        }
    }

    func randomShape(_ rng: inout SplitMix64) -> Shape {
        Shape(width: randomWidth(&rng), signed: rng.chance(0.5))
    }

    func literal(_ rng: inout SplitMix64) -> Int {
        switch rng.int(0...7) {
        case 0: return rng.pick([0, 1, -1, 2, -2])
        case 1: return rng.int(-100...100)
        case 2: return 1 << rng.int(0...62)
        case 3: return -(1 << rng.int(0...62))
        case 4: return rng.pick([Int.max, Int.min, Int.max - 1, Int.min + 1])
        default: return rng.int(-20...20)
        }
    }

    func constantValue(_ shape: Shape, _ rng: inout SplitMix64) -> Int128 {
        let w = min(shape.width, 126)
        switch rng.int(0...4) {
        case 0: return 0
        case 1: return shape.isSigned ? -1 : Shape.unsigned(w).maxValue
        case 2: return Shape(width: w, signed: shape.isSigned).minValue
        case 3: return Shape(width: w, signed: shape.isSigned).maxValue
        default:
            let raw = Int128(bitPattern: UInt128(rng.next()) << 64 | UInt128(rng.next()))
            return CircuitBuilder.fold(raw, into: Shape(width: w, signed: shape.isSigned))
        }
    }

    /// Draws the nodes, memory writes and outputs of `c`, building each node in `m`.
    func fill(_ c: inout FuzzCircuit, children: [ModuleDefinition], _ rng: inout SplitMix64, in m: ModuleBuilder) {
        let memories = c.memories.enumerated().map { m.memory("mem\($0)", width: $1.width, depth: $1.depth) }
        var s: [Signal] = []
        var inputCount = 0
        func add(_ node: FuzzNode) -> Bool {
            let signal = CircuitBuilder.make(node, index: c.nodes.count, s, memories: memories, children: children,
                                             inputCount: &inputCount, in: m)
            guard signal.width <= maxWidth else { return false }
            c.nodes.append(node)
            s.append(signal)
            return true
        }
        for _ in 0..<rng.int(1...4) {
            _ = add(.input(randomShape(&rng), offset: rng.int(0...10_000)))
        }
        let count = rng.int(max(2, maxNodes / 3)...maxNodes)
        var attempts = 0
        while c.nodes.count < count && attempts < 10 * maxNodes {
            attempts += 1
            // Operands lean towards recent nodes, so that deep expressions form.
            func any() -> Int {
                let n = s.count
                return rng.chance(0.6) ? rng.int(max(0, n - 4)...(n - 1)) : rng.int(0...(n - 1))
            }
            let node: FuzzNode
            switch rng.int(0...27) {
            case 0:
                let shape = randomShape(&rng)
                node = .constant(constantValue(shape, &rng), shape)
            case 1...6: node = .binary(rng.pick(Binary.allCases), any(), any())
            case 7...8: node = .withInt(rng.pick(WithInt.allCases), any(), literal(&rng))
            case 9...10: node = .unary(rng.pick(Unary.allCases), any())
            case 11: node = .bits(any(), hi: rng.int(0...200), lo: rng.int(0...200))
            case 12: node = .cat((0..<rng.int(2...3)).map { _ in any() })
            case 13: node = .mux(any(), any(), any())
            case 14: node = .muxInt(any(), any(), literal: literal(&rng), literalFirst: rng.chance(0.5))
            case 15: node = .select(any(), (0..<rng.int(1...6)).map { _ in any() }, default: any())
            case 16: node = .resize(rng.pick(Resize.allCases), any(), width: randomWidth(&rng))
            case 17:
                let w = rng.int(1...126)
                node = .saturate(any(), Shape(width: w, signed: rng.chance(0.5)))
            case 18: node = .roundShift(any(), drop: rng.int(0...40), rng.pick(Rounding.allCases), random: any())
            case 19: node = .wire(any())
            case 20...22:
                let shape = randomShape(&rng)
                let reset: Int128? = rng.chance(0.7) ? constantValue(shape, &rng) : nil
                // The next value is chosen once every node exists, so it may come from later.
                node = .register(shape, reset: reset, enable: rng.chance(0.4) ? any() : nil, next: 0)
            case 23: node = .delay(any(), reset: rng.chance(0.6) ? Int128(literal(&rng)) : nil, enable: rng.chance(0.4) ? any() : nil)
            case 24...25:
                guard !memories.isEmpty else { continue }
                let k = rng.int(0...(memories.count - 1))
                node = rng.chance(0.5) ? .read(memory: k, address: any())
                    : .readSync(memory: k, address: any(), enable: rng.chance(0.5) ? any() : nil)
            default:
                guard !children.isEmpty else { continue }
                let k = rng.int(0...(children.count - 1))
                let inputs = children[k].ports.filter { $0.direction == .input && $0.name != "clk" && $0.name != "rst" }
                node = .instance(child: k, inputs: inputs.map { _ in any() }, port: rng.int(0...7))
            }
            _ = add(node)
        }
        for i in c.nodes.indices {
            if case .register(let shape, let reset, let e, _) = c.nodes[i] {
                c.nodes[i] = .register(shape, reset: reset, enable: e, next: rng.int(0...(c.nodes.count - 1)))
            }
        }
        for k in c.memories.indices {
            for _ in 0..<rng.int(1...2) {
                c.memories[k].writes.append((rng.int(0...(c.nodes.count - 1)), rng.int(0...(c.nodes.count - 1)),
                                             rng.int(0...(c.nodes.count - 1))))
            }
        }
        let n = c.nodes.count
        c.outputs = (0..<rng.int(1...3)).map { _ in rng.chance(0.7) ? rng.int(max(0, n - 5)...(n - 1)) : rng.int(0...(n - 1)) }
    }
}
