/// A Verilog `parameter` of a module: a per-instance constant with a default.
public struct ModuleParameter: Hashable, Sendable {
    public let name: String
    public let shape: Shape
    /// Two's-complement bit pattern, as for constants.
    public let defaultValue: Int128
}

/// A port of a module: its name, shape and direction. A core declares its ports once as `Port`
/// values (its interface); the generator declares them with `input(_:)` and `output(_:_:)`, and
/// host-side drivers poke and peek them by the same values, so a renamed or resized port cannot
/// leave a stale string behind.
public struct Port: Hashable, Sendable {
    public enum Direction: String, Sendable { case input, output }
    public let name: String
    public let shape: Shape
    public let direction: Direction

    public init(name: String, shape: Shape, direction: Direction) {
        self.name = name
        self.shape = shape
        self.direction = direction
    }

    /// The implicit clock and synchronous, active-high reset every sequential module has.
    public static let clock = Port.input("clk", .bit)
    public static let reset = Port.input("rst", .bit)

    public static func input(_ name: String, _ shape: Shape) -> Port { Port(name: name, shape: shape, direction: .input) }
    public static func output(_ name: String, _ shape: Shape) -> Port { Port(name: name, shape: shape, direction: .output) }
}

/// Builds one module: ports, wires, registers, memories and instances. Handed to the closure of
/// `ModuleDefinition.define`; every problem is collected and reported when the closure returns.
public final class ModuleBuilder {
    public let name: String
    var signals: [Signal] = []
    var memories: [Memory] = []
    var instances: [Instance] = []
    private var instanceNames: Set<String> = []
    var inputs: [Signal] = []
    var parameters: [ModuleParameter] = []
    var outputs: [(name: String, signal: Signal, location: SourceLocation)] = []
    var diagnostics: [Diagnostic] = []
    var usesClock = false
    var usesReset = false
    private var portLocations: [String: SourceLocation] = [:]
    private var constants: [Shape: [Int128: Signal]] = [:]
    private var clockSignal: Signal?
    private var resetSignal: Signal?

    init(name: String) { self.name = name }

    func error(_ message: String, at location: SourceLocation?) {
        diagnostics.append(Diagnostic(message: message, location: location))
    }

    func checkOwnership(_ s: Signal, at location: SourceLocation?) {
        if s.module !== self {
            error("\(s) belongs to module '\(s.module.name)' and cannot be used in '\(name)'; connect it through a port", at: location)
        }
    }

    private func claimPortName(_ port: String, at here: SourceLocation) {
        if let problem = Names.problem(with: port) {
            error("port name \(problem)", at: here)
        } else if let previous = portLocations[port] {
            error("duplicate port name '\(port)' (first declared at \(previous))", at: here)
        }
        portLocations[port] = portLocations[port] ?? here
    }

    // MARK: Ports

    public func input(_ name: String, _ shape: Shape, file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkWidth(shape, at: here)
        claimPortName(name, at: here)
        let s = Signal(shape, .input(name), in: self, name: name, at: here)
        inputs.append(s)
        return s
    }

    /// Declares the input port `port` of the core's interface.
    public func input(_ port: Port, file: String = #fileID, line: Int = #line) -> Signal {
        if port.direction != .input { error("port '\(port.name)' is an output of the interface", at: SourceLocation(file: file, line: line)) }
        return input(port.name, port.shape, file: file, line: line)
    }

    /// Declares the output port `port` of the core's interface, driven by `value` of its width.
    public func output(_ port: Port, _ value: Signal, file: String = #fileID, line: Int = #line) {
        let here = SourceLocation(file: file, line: line)
        if port.direction != .output { error("port '\(port.name)' is an input of the interface", at: here) }
        if value.width != port.shape.width {
            error("port '\(port.name)' is \(port.shape.width) bits in the interface, driven by \(value.width) bits", at: here)
        }
        output(port.name, value, file: file, line: line)
    }

    /// Declares an output driven by `value`.
    public func output(_ name: String, _ value: Signal, file: String = #fileID, line: Int = #line) {
        let here = SourceLocation(file: file, line: line)
        claimPortName(name, at: here)
        checkOwnership(value, at: here)
        outputs.append((name, value, here))
    }

    /// Declares an output of a given shape, to be driven later with `assign`.
    public func output(_ name: String, _ shape: Shape, file: String = #fileID, line: Int = #line) -> Signal {
        let w = wire(name, shape, file: file, line: line)
        output(name, w, file: file, line: line)
        return w
    }

    /// The implicit clock input `clk`: registers and memories use it.
    public var clock: Signal {
        usesClock = true
        if let c = clockSignal { return c }
        let c = Signal(.bit, .input("clk"), in: self, name: "clk")
        clockSignal = c
        return c
    }

    /// The implicit synchronous, active-high reset input `rst`.
    public var reset: Signal {
        usesReset = true
        if let r = resetSignal { return r }
        let r = Signal(.bit, .input("rst"), in: self, name: "rst")
        resetSignal = r
        return r
    }

    var clockAndReset: [Signal] { [clockSignal, resetSignal].compactMap { $0 } }

    /// A user port may not take the name of the implicit `clk` or `rst` this module ends up with.
    func checkImplicitPortNames() {
        for s in clockAndReset {
            if let port = s.portName, let location = portLocations[port] {
                error("port name '\(port)' is taken by the implicit \(port == "clk" ? "clock" : "reset") of this module's registers, memories or instances", at: location)
            }
        }
    }

    /// A module parameter (Verilog `parameter`): a constant that each instance may set (see
    /// `instance(_:name:parameters:_:)`); a top module keeps `default`. Use it as an operand, as a
    /// register's reset value, or to set a parameter of an instance below.
    public func parameter(_ name: String, _ shape: Shape, default value: Int128,
                          file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkWidth(shape, at: here)
        claimPortName(name, at: here)  // parameters share the module's namespace with ports
        if !shape.contains(value) {
            error("default \(value) of parameter '\(name)' does not fit \(shape) (allowed \(shape.minValue)...\(shape.maxValue))", at: here)
        }
        parameters.append(ModuleParameter(name: name, shape: shape, defaultValue: Self.pattern(value, shape)))
        return Signal(shape, .parameter(name), in: self, name: name, at: here)
    }

    // MARK: Storage and wiring

    /// A wire to be driven later with `assign` (for feedback and forward references).
    public func wire(_ name: String, _ shape: Shape, file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkWidth(shape, at: here)
        return Signal(shape, .wire(Connection()), in: self, name: name, at: here)
    }

    /// A register on `clk`. With a reset value it loads that value on `rst`; with an enable it
    /// holds when the enable is low. Drive its next value with `assign`.
    public func register(_ name: String, _ shape: Shape, reset: Int128? = 0, enable: Signal? = nil,
                         file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkWidth(shape, at: here)
        if let r = reset, !shape.contains(r) {
            error("reset value \(r) of register '\(name)' does not fit \(shape) (allowed \(shape.minValue)...\(shape.maxValue))", at: here)
        }
        if let e = enable {
            checkOwnership(e, at: here)
            if e.width != 1 { error("enable of register '\(name)' must be 1 bit, got \(e)", at: here) }
        }
        _ = clock
        if reset != nil { _ = self.reset }
        let pattern = reset.map { Self.pattern($0, shape) }
        return Signal(shape, .register(RegisterState(enable: enable, resetValue: pattern)), in: self, name: name, at: here)
    }

    /// A register that `rst` loads with a module parameter's value (set per instance).
    public func register(_ name: String, _ shape: Shape, reset parameter: Signal, enable: Signal? = nil,
                         file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkWidth(shape, at: here)
        checkOwnership(parameter, at: here)
        guard case .parameter(let pname) = parameter.op, let p = parameters.first(where: { $0.name == pname }) else {
            error("the reset of register '\(name)' must be a parameter of this module (or an integer), got \(parameter)", at: here)
            return register(name, shape, reset: 0, enable: enable, file: file, line: line)
        }
        if p.shape != shape {
            error("reset parameter '\(pname)' (\(p.shape)) of register '\(name)' must have its shape \(shape)", at: here)
        }
        if let e = enable {
            checkOwnership(e, at: here)
            if e.width != 1 { error("enable of register '\(name)' must be 1 bit, got \(e)", at: here) }
        }
        _ = clock
        _ = reset
        let state = RegisterState(enable: enable, resetValue: p.defaultValue, resetParameter: pname)
        return Signal(shape, .register(state), in: self, name: name, at: here)
    }

    /// A register that samples `value` every cycle (or when `enable` is high).
    public func delay(_ value: Signal, name: String, reset: Int128? = 0, enable: Signal? = nil,
                      file: String = #fileID, line: Int = #line) -> Signal {
        let r = register(name, value.shape, reset: reset, enable: enable, file: file, line: line)
        r.assign(value, file: file, line: line)
        return r
    }

    public func memory(_ name: String, width: Int, depth: Int, file: String = #fileID, line: Int = #line) -> Memory {
        let here = SourceLocation(file: file, line: line)
        checkWidth(.unsigned(width), at: here)
        if depth < 2 { error("memory '\(name)' depth \(depth) is too small (allowed 2 or more)", at: here) }
        let m = Memory(name: name, width: width, depth: max(depth, 2), module: self, location: here)
        memories.append(m)
        usesClock = true
        _ = clock
        return m
    }

    /// A constant. Refuses a value that does not fit the shape.
    public func constant(_ value: Int128, _ shape: Shape, file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        checkWidth(shape, at: here)
        if !shape.contains(value) {
            error("constant \(value) does not fit \(shape) (allowed \(shape.minValue)...\(shape.maxValue))", at: here)
        }
        let bits = Self.pattern(value, shape)
        if let existing = constants[shape]?[bits] { return existing }
        let c = Signal(shape, .constant(bits), in: self, at: here)
        constants[shape, default: [:]][bits] = c
        return c
    }

    /// Instantiates another module. Every input port must be connected, with its exact shape;
    /// `clk` and `rst` are connected automatically (`rst` to this module's reset unless
    /// `connections` names another signal for it).
    ///
    /// `parameters` sets parameters of `definition` by name, each to a constant or to a parameter
    /// of this module (of the parameter's exact shape); the others keep their defaults.
    /// An instance connected through its interface: each input `Port` to a signal.
    public func instance(_ definition: ModuleDefinition, name: String, parameters: [String: Signal] = [:],
                         connecting connections: [Port: Signal],
                         file: String = #fileID, line: Int = #line) -> Instance {
        instance(definition, name: name, parameters: parameters,
                 Dictionary(uniqueKeysWithValues: connections.map { ($0.key.name, $0.value) }), file: file, line: line)
    }

    public func instance(_ definition: ModuleDefinition, name: String, parameters: [String: Signal] = [:],
                         _ connections: [String: Signal],
                         file: String = #fileID, line: Int = #line) -> Instance {
        let here = SourceLocation(file: file, line: line)
        if let problem = Names.problem(with: name) { error("instance name \(problem)", at: here) }
        if !instanceNames.insert(name).inserted { error("duplicate instance name '\(name)'", at: here) }
        var inputs: [(String, Signal)] = []
        var matched = 0
        for port in definition.ports where port.direction == .input {
            if port.name == "clk" && definition.usesClock { inputs.append((port.name, clock)); continue }
            // A parent may give an instance its own reset (a soft reset of part of a design).
            if port.name == "rst" && definition.usesReset && connections["rst"] == nil { inputs.append((port.name, reset)); continue }
            guard let s = connections[port.name] else {
                error("instance '\(name)' of '\(definition.name)' leaves input '\(port.name)' (\(port.shape)) unconnected", at: here)
                continue
            }
            matched += 1
            checkOwnership(s, at: here)
            if s.shape != port.shape {
                error("width mismatch on connection: input '\(port.name)' of '\(definition.name)' is \(port.shape) but instance '\(name)' connects \(s)", at: here)
            }
            inputs.append((port.name, s))
        }
        // Connections no input took (looked for only then: arrays have thousands of instances).
        if matched < connections.count {
            let known = Set(definition.ports.filter { $0.direction == .input }.map(\.name))
            for port in connections.keys.sorted() where !known.contains(port) {
                error("module '\(definition.name)' has no input '\(port)' (instance '\(name)')", at: here)
            }
        }
        let inst = Instance(name: name, definition: definition, inputs: inputs, module: self, location: here)
        for p in definition.parameters {
            guard let value = parameters[p.name] else { continue }
            checkOwnership(value, at: here)
            switch value.op {
            case .constant, .parameter: break
            default: error("parameter '\(p.name)' of instance '\(name)' must be a constant or a parameter of '\(self.name)', got \(value)", at: here)
            }
            if value.shape != p.shape {
                error("parameter '\(p.name)' of '\(definition.name)' is \(p.shape) but instance '\(name)' sets it to \(value)", at: here)
            }
            inst.parameters.append((p.name, value))
        }
        if inst.parameters.count < parameters.count {
            let knownParameters = Set(definition.parameters.map(\.name))
            for p in parameters.keys.sorted() where !knownParameters.contains(p) {
                error("module '\(definition.name)' has no parameter '\(p)' (instance '\(name)')", at: here)
            }
        }
        for port in definition.ports where port.direction == .output {
            inst.outputs[port.name] = Signal(port.shape, .instanceOutput(inst, port: port.name), in: self,
                                             name: name + "_" + port.name, at: here)
        }
        instances.append(inst)
        return inst
    }

    func checkWidth(_ shape: Shape, at here: SourceLocation) {
        if shape.width < 1 || shape.width > 4096 {
            error("width \(shape.width) is out of range (allowed 1...4096)", at: here)
        }
    }

    /// Two's-complement bit pattern of `value` in `shape.width` bits.
    static func pattern(_ value: Int128, _ shape: Shape) -> Int128 {
        shape.width >= 128 ? value : value & (shape.width == 127 ? Int128.max : (Int128(1) << shape.width) - 1)
    }
}
