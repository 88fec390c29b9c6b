/// Composite ports: a valid/ready channel (a stream) and the AXI4 and AXI4-Lite interfaces built
/// from five of them. Like `Port`, a bundle is declared once and used by the generator
/// (`ModuleBuilder.stream`), the host-side driver and the docs; its ports keep plain Verilog
/// names (`a_valid`, `m_axi_awaddr`), so outside tools connect to them by name.

/// A valid/ready channel's ports: the payload moves on a cycle where `valid` and `ready` are both
/// high (a "fire"). `ready` is nil for a channel without backpressure, whose receiver takes every
/// valid beat. The direction is the payload's: `.input` when the module receives it.
public struct StreamPorts: Hashable, Sendable {
    /// One payload member: its role in the channel (`data`, `last`, `addr`, ...) and its port.
    public struct Field: Hashable, Sendable {
        public let role: String
        public let port: Port
    }

    public let valid: Port
    public let ready: Port?
    public let payload: [Field]

    /// A channel with its ports named one by one: `payload` lists (role, port name, shape).
    public init(valid: String, ready: String?, payload: [(role: String, name: String, shape: Shape)],
                direction: Port.Direction) {
        let back: Port.Direction = direction == .input ? .output : .input
        self.valid = Port(name: valid, shape: .bit, direction: direction)
        self.ready = ready.map { Port(name: $0, shape: .bit, direction: back) }
        self.payload = payload.map { Field(role: $0.role, port: Port(name: $0.name, shape: $0.shape, direction: direction)) }
    }

    private init(valid: Port, ready: Port?, payload: [Field]) {
        (self.valid, self.ready, self.payload) = (valid, ready, payload)
    }

    /// The usual stream: `<prefix>_valid`, `<prefix>_ready`, `<prefix>_data` and, with `last`,
    /// `<prefix>_last` (a packet's final beat).
    public static func stream(_ prefix: String, data: Shape, last: Bool = false, ready: Bool = true,
                              direction: Port.Direction) -> StreamPorts {
        var payload: [(role: String, name: String, shape: Shape)] = [("data", prefix + "_data", data)]
        if last { payload.append(("last", prefix + "_last", .bit)) }
        return StreamPorts(valid: prefix + "_valid", ready: ready ? prefix + "_ready" : nil, payload: payload, direction: direction)
    }

    /// The payload's direction: `.input` when the module receives the channel.
    public var direction: Port.Direction { valid.direction }

    /// The same channel seen from the other end: every port's direction swapped.
    public var flipped: StreamPorts {
        func flip(_ p: Port) -> Port { Port(name: p.name, shape: p.shape, direction: p.direction == .input ? .output : .input) }
        return StreamPorts(valid: flip(valid), ready: ready.map(flip), payload: payload.map { Field(role: $0.role, port: flip($0.port)) })
    }

    /// Every port: valid, ready, then the payload in order.
    public var ports: [Port] { [valid] + (ready.map { [$0] } ?? []) + payload.map(\.port) }

    /// The payload port with `role`, if the channel has one.
    public subscript(_ role: String) -> Port? { payload.first { $0.role == role }?.port }

    /// The `data` member (every `stream(...)` has one).
    public var data: Port? { self["data"] }
    /// The `last` member, when the channel marks a packet's final beat.
    public var last: Port? { self["last"] }
}

/// A channel inside a module: its signals. Members the module drives (its output ports, or the
/// wires of `ModuleBuilder.streamWires`) are wires to `assign` or to `connect`.
public struct Stream {
    public let ports: StreamPorts
    public let valid: Signal
    public let ready: Signal?
    /// In the order of `ports.payload`.
    public let payload: [Signal]

    /// The payload signal with `role`; an elaboration error when the channel has none.
    public subscript(_ role: String) -> Signal {
        if let i = ports.payload.firstIndex(where: { $0.role == role }) { return payload[i] }
        valid.module.error("stream '\(ports.valid.name)' has no payload member '\(role)' (it has \(ports.payload.map(\.role).joined(separator: ", ")))", at: valid.location)
        return valid.module.constant(0, .bit)
    }

    public var data: Signal { self["data"] }
    public var last: Signal? { ports.last == nil ? nil : self["last"] }

    /// High on a cycle where the payload moves: valid and ready (valid alone without backpressure).
    public var fire: Signal { ready.map { valid & $0 } ?? valid }
}

extension ModuleBuilder {
    /// Declares a channel's ports. Inputs become input signals; outputs become wires to drive.
    public func stream(_ ports: StreamPorts, file: String = #fileID, line: Int = #line) -> Stream {
        func declare(_ p: Port) -> Signal {
            p.direction == .input ? input(p, file: file, line: line) : output(p.name, p.shape, file: file, line: line)
        }
        let valid = declare(ports.valid)
        let ready = ports.ready.map(declare)
        return Stream(ports: ports, valid: valid, ready: ready, payload: ports.payload.map { declare($0.port) })
    }

    /// A channel of undriven wires named after `ports` with `prefix` (`ports` as seen by the
    /// side that receives the payload, or sends it: only the shapes and roles matter): for
    /// connecting two instances, or an instance to the module's ports.
    public func streamWires(_ ports: StreamPorts, prefix: String, file: String = #fileID, line: Int = #line) -> Stream {
        func w(_ p: Port) -> Signal { wire(prefix + "_" + p.name, p.shape, file: file, line: line) }
        return Stream(ports: ports, valid: w(ports.valid), ready: ports.ready.map(w), payload: ports.payload.map { w($0.port) })
    }

    /// Connects a producer's channel to a consumer's: the consumer's valid and payload are
    /// driven from the producer's, and the producer's ready from the consumer's. The two
    /// channels must have the same members with the same shapes, and the driven side of each
    /// member must be a wire or output of this module (not an input): an error otherwise.
    public func connect(_ consumer: Stream, from producer: Stream, file: String = #fileID, line: Int = #line) {
        let here = SourceLocation(file: file, line: line)
        let (c, p) = (consumer.ports, producer.ports)
        let cRoles = c.payload.map { "\($0.role): \($0.port.shape)" }
        let pRoles = p.payload.map { "\($0.role): \($0.port.shape)" }
        guard cRoles == pRoles, (c.ready == nil) == (p.ready == nil) else {
            error("stream mismatch: '\(p.valid.name)' carries [\(pRoles.joined(separator: ", "))]\(p.ready == nil ? " without ready" : "") but '\(c.valid.name)' takes [\(cRoles.joined(separator: ", "))]\(c.ready == nil ? " without ready" : "")", at: here)
            return
        }
        func drive(_ target: Signal, from source: Signal, _ what: String) {
            if case .input = target.op {
                error("stream direction: \(what) '\(target.portName ?? target.name ?? "?")' is an input of '\(name)' and cannot be driven; connect a producer to a consumer (flip one side?)", at: here)
                return
            }
            target.assign(source, file: file, line: line)
        }
        drive(consumer.valid, from: producer.valid, "valid")
        for (t, s) in zip(consumer.payload, producer.payload) { drive(t, from: s, "payload") }
        if let cr = consumer.ready, let pr = producer.ready { drive(pr, from: cr, "ready") }
    }
}

// MARK: AXI

/// Which end of an AXI link a module is: the manager issues addresses (AMBA's "master"), the
/// subordinate answers them ("slave").
public enum AXIRole: String, Sendable { case manager, subordinate }

/// AXI burst types (AMBA AXI, A3.4.1) and response codes (A3.4.4), as the wires carry them.
public enum AXI {
    public static let burstIncr: Int128 = 1
    public static let respOkay: Int128 = 0, respExokay: Int128 = 1, respSlverr: Int128 = 2, respDecerr: Int128 = 3
    /// The longest INCR burst (beats) and the boundary no burst may cross (bytes).
    public static let maxBurstBeats = 256
    public static let burstBoundaryBytes = 4096
}

/// An AXI4 interface: write address (AW), write data (W), write response (B), read address (AR)
/// and read data (R) channels, named `<prefix>_awaddr`, `<prefix>_wvalid`, ... as Vivado's and
/// cocotbext-axi's bus conventions expect. IDs are left out when `idBits` is 0.
public struct AXI4Ports: Hashable, Sendable {
    public let prefix: String
    public let role: AXIRole
    public let addressBits: Int, dataBits: Int, idBits: Int
    public let aw, w, b, ar, r: StreamPorts

    public init(prefix: String = "m_axi", role: AXIRole = .manager, addressBits: Int, dataBits: Int, idBits: Int = 0) {
        precondition([32, 64, 128, 256, 512, 1024].contains(dataBits), "AXI data width \(dataBits) is not a power of two from 32 to 1024")
        (self.prefix, self.role, self.addressBits, self.dataBits, self.idBits) = (prefix, role, addressBits, dataBits, idBits)
        let out: Port.Direction = role == .manager ? .output : .input
        let back: Port.Direction = role == .manager ? .input : .output
        func channel(_ ch: String, _ fields: [(String, Shape)], _ direction: Port.Direction) -> StreamPorts {
            let id: [(String, Shape)] = idBits > 0 ? [("id", .unsigned(idBits))] : []
            return StreamPorts(valid: "\(prefix)_\(ch)valid", ready: "\(prefix)_\(ch)ready",
                               payload: (id + fields).map { (role: $0.0, name: "\(prefix)_\(ch)\($0.0)", shape: $0.1) },
                               direction: direction)
        }
        let address: [(String, Shape)] = [("addr", .unsigned(addressBits)), ("len", .unsigned(8)), ("size", .unsigned(3)),
                                          ("burst", .unsigned(2)), ("cache", .unsigned(4)), ("prot", .unsigned(3))]
        aw = channel("aw", address, out)
        w = StreamPorts(valid: "\(prefix)_wvalid", ready: "\(prefix)_wready",
                        payload: [("data", "\(prefix)_wdata", .unsigned(dataBits)), ("strb", "\(prefix)_wstrb", .unsigned(dataBits / 8)),
                                  ("last", "\(prefix)_wlast", .bit)], direction: out)
        b = channel("b", [("resp", .unsigned(2))], back)
        ar = channel("ar", address, out)
        r = channel("r", [("data", .unsigned(dataBits)), ("resp", .unsigned(2)), ("last", .bit)], back)
    }

    public var channels: [StreamPorts] { [aw, w, b, ar, r] }
    public var ports: [Port] { channels.flatMap(\.ports) }
    /// Bytes a beat carries, and AxSIZE for a full-width beat.
    public var beatBytes: Int { dataBits / 8 }
    public var fullSize: Int { beatBytes.trailingZeroBitCount }
}

/// An AXI4-Lite interface: the five channels without bursts, IDs or caches, `<prefix>_awaddr`,
/// ... (32- or 64-bit data).
public struct AXI4LitePorts: Hashable, Sendable {
    public let prefix: String
    public let role: AXIRole
    public let addressBits: Int, dataBits: Int
    public let aw, w, b, ar, r: StreamPorts

    public init(prefix: String = "s_axil", role: AXIRole = .subordinate, addressBits: Int, dataBits: Int = 32) {
        precondition(dataBits == 32 || dataBits == 64, "AXI4-Lite data width \(dataBits) is not 32 or 64")
        (self.prefix, self.role, self.addressBits, self.dataBits) = (prefix, role, addressBits, dataBits)
        let out: Port.Direction = role == .manager ? .output : .input
        let back: Port.Direction = role == .manager ? .input : .output
        func channel(_ ch: String, _ fields: [(String, Shape)], _ direction: Port.Direction) -> StreamPorts {
            StreamPorts(valid: "\(prefix)_\(ch)valid", ready: "\(prefix)_\(ch)ready",
                        payload: fields.map { (role: $0.0, name: "\(prefix)_\(ch)\($0.0)", shape: $0.1) }, direction: direction)
        }
        aw = channel("aw", [("addr", .unsigned(addressBits)), ("prot", .unsigned(3))], out)
        w = channel("w", [("data", .unsigned(dataBits)), ("strb", .unsigned(dataBits / 8))], out)
        b = channel("b", [("resp", .unsigned(2))], back)
        ar = channel("ar", [("addr", .unsigned(addressBits)), ("prot", .unsigned(3))], out)
        r = channel("r", [("data", .unsigned(dataBits)), ("resp", .unsigned(2))], back)
    }

    public var channels: [StreamPorts] { [aw, w, b, ar, r] }
    public var ports: [Port] { channels.flatMap(\.ports) }
}

/// An AXI interface's channels as signals inside a module.
public struct AXIChannels {
    public let aw, w, b, ar, r: Stream
}

extension ModuleBuilder {
    /// Declares an AXI4 interface's ports.
    public func axi4(_ ports: AXI4Ports, file: String = #fileID, line: Int = #line) -> AXIChannels {
        AXIChannels(aw: stream(ports.aw, file: file, line: line), w: stream(ports.w, file: file, line: line),
                    b: stream(ports.b, file: file, line: line), ar: stream(ports.ar, file: file, line: line),
                    r: stream(ports.r, file: file, line: line))
    }

    /// Declares an AXI4-Lite interface's ports.
    public func axi4Lite(_ ports: AXI4LitePorts, file: String = #fileID, line: Int = #line) -> AXIChannels {
        AXIChannels(aw: stream(ports.aw, file: file, line: line), w: stream(ports.w, file: file, line: line),
                    b: stream(ports.b, file: file, line: line), ar: stream(ports.ar, file: file, line: line),
                    r: stream(ports.r, file: file, line: line))
    }
}
