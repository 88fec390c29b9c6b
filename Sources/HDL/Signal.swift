/// Primitive operations. Operands of `binary` and `mux` have equal widths; the front-end
/// operators (Operators.swift) insert the extensions, so the emitter never relies on Verilog's
/// context-determined widths.
public enum BinaryOp: String, Sendable {
    case add, sub, mul, and, or, xor
    case eq, ne, lt, le          // 1-bit results; signedness from the operands
    case shl, shr                 // dynamic shifts: b is the (unsigned) amount; shr is arithmetic for signed a
}

public enum ReduceOp: String, Sendable { case and, or, xor }

public enum Op {
    case input(String)
    case constant(Int128)                       // two's-complement bit pattern of the signal's width (<= 127 bits)
    case parameter(String)                      // a module parameter: constant within one instance, set per instance
    case wire(Connection)
    case register(RegisterState)
    case not(Signal)
    case reduce(ReduceOp, Signal)
    case binary(BinaryOp, Signal, Signal)
    case mux(select: Signal, whenTrue: Signal, whenFalse: Signal)
    case concat([Signal])                       // most significant first
    case slice(Signal, hi: Int, lo: Int)
    case extend(Signal)                         // to this signal's width, by the operand's signedness
    case memoryRead(Memory, address: Signal)    // combinational read
    case memoryReadSync(Memory, address: Signal, enable: Signal?)  // registered read (block RAM)
    case instanceOutput(Instance, port: String)
}

/// The driver of a wire, output or register input, set once after the signal is made.
public final class Connection {
    public internal(set) var driver: Signal?
    public internal(set) var location: SourceLocation?
}

public final class RegisterState {
    public let next = Connection()
    public let enable: Signal?
    public let resetValue: Int128?   // nil: no reset
    /// A module parameter that replaces `resetValue` (which then holds its default) per instance.
    public let resetParameter: String?
    init(enable: Signal?, resetValue: Int128?, resetParameter: String? = nil) {
        self.enable = enable
        self.resetValue = resetValue
        self.resetParameter = resetParameter
    }
}

/// A node of the circuit graph. Swift's `==` compares node identity; hardware equality is `.==`.
public final class Signal: Hashable, CustomStringConvertible {
    public let shape: Shape
    public let op: Op
    public let id: Int
    public internal(set) var name: String?
    public let location: SourceLocation?
    /// Where `named` was called: the emitter's source comment for a node built by an operator.
    public private(set) var namedAt: SourceLocation?
    unowned let module: ModuleBuilder

    init(_ shape: Shape, _ op: Op, in module: ModuleBuilder, name: String? = nil, at location: SourceLocation? = nil) {
        self.shape = shape
        self.op = op
        self.module = module
        self.name = name
        self.location = location
        self.id = module.signals.count
        module.signals.append(self)
    }

    public var width: Int { shape.width }
    public var isSigned: Bool { shape.isSigned }

    public static func == (a: Signal, b: Signal) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }

    public var description: String {
        let what = name.map { "'\($0)'" } ?? "\(kind) node #\(id)"
        return what + " (\(shape))" + (location.map { " made at \($0)" } ?? "")
    }

    /// A short word for the operation, used for generated names.
    public var kind: String {
        switch op {
        case .input: "input"
        case .constant: "const"
        case .parameter(let name): name
        case .wire: "wire"
        case .register: "reg"
        case .not: "not"
        case .reduce(let r, _): "reduce_" + r.rawValue
        case .binary(let b, _, _): b.rawValue
        case .mux: "mux"
        case .concat: "cat"
        case .slice: "bits"
        case .extend: "ext"
        case .memoryRead, .memoryReadSync: "rd"
        case .instanceOutput(_, let port): port
        }
    }

    /// Gives the node a name (used in the Verilog; made legal and unique there). Returns self.
    @discardableResult
    public func named(_ name: String, file: String = #fileID, line: Int = #line) -> Signal {
        self.name = name
        namedAt = SourceLocation(file: file, line: line)
        return self
    }

    /// Drives a wire, an output declared by shape, or a register's next value. Widths and
    /// signedness must match exactly: narrowing is always explicit.
    public func assign(_ value: Signal, file: String = #fileID, line: Int = #line) {
        let here = SourceLocation(file: file, line: line)
        let target: Connection
        switch op {
        case .wire(let c): target = c
        case .register(let r): target = r.next
        default:
            module.error("\(self) is not a wire, output or register and cannot be assigned", at: here)
            return
        }
        if let previous = target.location {
            module.error("multiple drivers: \(self) is already driven at \(previous)", at: here)
            return
        }
        if value.shape != shape {
            module.error("width mismatch on connection: \(self) is \(shape) but is driven by \(value); narrow or extend it explicitly", at: here)
        }
        module.checkOwnership(value, at: here)
        target.driver = value
        target.location = here
    }

    /// Drives a wire, output or register from an integer constant of its own shape.
    public func assign(_ value: Int, file: String = #fileID, line: Int = #line) {
        assign(module.constant(Int128(value), shape, file: file, line: line), file: file, line: line)
    }
}

/// A block of storage: yosys infers block RAM from a synchronous read port.
public final class Memory {
    public let name: String
    public let width: Int
    public let depth: Int
    public let location: SourceLocation
    public internal(set) var writes: [(enable: Signal, address: Signal, data: Signal)] = []
    unowned let module: ModuleBuilder

    init(name: String, width: Int, depth: Int, module: ModuleBuilder, location: SourceLocation) {
        self.name = name
        self.width = width
        self.depth = depth
        self.module = module
        self.location = location
    }

    /// Address width: ceil(log2(depth)), at least 1.
    public var addressWidth: Int { max(1, Int.bitWidth - (depth - 1).leadingZeroBitCount) }

    public func write(address: Signal, data: Signal, enable: Signal, file: String = #fileID, line: Int = #line) {
        let here = SourceLocation(file: file, line: line)
        checkAddress(address, at: here)
        if data.width != width {
            module.error("memory '\(name)' is \(width) bits wide but is written with \(data)", at: here)
        }
        if enable.width != 1 { module.error("write enable of memory '\(name)' must be 1 bit, got \(enable)", at: here) }
        for s in [address, data, enable] { module.checkOwnership(s, at: here) }
        writes.append((enable, address, data))
    }

    /// Combinational read (distributed RAM / registers).
    public func read(address: Signal, file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkAddress(address, at: here)
        return Signal(.unsigned(width), .memoryRead(self, address: address), in: module, at: here)
    }

    /// Registered read: the data appears one cycle after the address (block RAM).
    public func readSync(address: Signal, enable: Signal? = nil, file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkAddress(address, at: here)
        if let e = enable {
            module.checkOwnership(e, at: here)
            if e.width != 1 { module.error("read enable of memory '\(name)' must be 1 bit, got \(e)", at: here) }
        }
        module.usesClock = true
        return Signal(.unsigned(width), .memoryReadSync(self, address: address, enable: enable), in: module, at: here)
    }

    private func checkAddress(_ address: Signal, at here: SourceLocation) {
        if address.width != addressWidth || address.isSigned {
            module.error("memory '\(name)' (depth \(depth)) needs an unsigned \(addressWidth)-bit address, got \(address)", at: here)
        }
        module.checkOwnership(address, at: here)
    }
}

/// One use of a module definition inside another module.
public final class Instance {
    public let name: String
    public let definition: ModuleDefinition
    public let inputs: [(port: String, signal: Signal)]
    /// The parameters this instance sets, in the definition's order: each a constant or a
    /// parameter of the instantiating module. The others keep their defaults.
    public internal(set) var parameters: [(name: String, value: Signal)] = []
    public let location: SourceLocation
    public internal(set) var outputs: [String: Signal] = [:]
    unowned let module: ModuleBuilder

    init(name: String, definition: ModuleDefinition, inputs: [(String, Signal)], module: ModuleBuilder, location: SourceLocation) {
        self.name = name
        self.definition = definition
        self.inputs = inputs
        self.module = module
        self.location = location
    }

    /// The signal carried by the output `port` of the instance's interface.
    public subscript(_ port: Port) -> Signal { self[port.name] }

    /// The signal carried by one of the instance's output ports.
    public subscript(_ port: String) -> Signal {
        if let s = outputs[port] { return s }
        module.error("module '\(definition.name)' has no output '\(port)' (instance '\(name)')", at: location)
        return module.constant(0, .bit, file: location.file, line: location.line)
    }
}
