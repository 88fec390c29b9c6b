import HDL

/// A first-word-fall-through FIFO: `out_data` shows the oldest entry whenever `out_valid` is
/// high, and zero while it is low. Storage is a memory with a combinational read port
/// (distributed RAM).
public struct FIFOConfig: Hashable, Sendable, Codable {
    public var width: Int
    /// Entries; a power of two, at least 2.
    public var depth: Int

    public init(width: Int, depth: Int) {
        self.width = width
        self.depth = depth
    }

    public var moduleName: String { "fifo_w\(width)_d\(depth)" }
    var pointerBits: Int { ceilLog2(depth) + 1 }
}

public enum FIFO {
    /// The FIFO's ports, declared once for the generator and the arrays that use it.
    public struct Interface: Sendable {
        public let inValid, inData, outReady: Port
        /// Not full.
        public let inReady: Port
        public let outValid, outData: Port
        public init(_ c: FIFOConfig) {
            (inValid, inData, outReady) = (.input("in_valid", .bit), .input("in_data", .unsigned(c.width)), .input("out_ready", .bit))
            inReady = .output("in_ready", .bit)
            (outValid, outData) = (.output("out_valid", .bit), .output("out_data", .unsigned(c.width)))
        }
    }

    /// Ports: `in_valid`, `in_data` in, `in_ready` out (not full); `out_valid`, `out_data` out,
    /// `out_ready` in. A push and a pop may happen in the same cycle.
    public static func module(_ c: FIFOConfig) throws -> ModuleDefinition {
        precondition(c.depth >= 2 && c.depth & (c.depth - 1) == 0, "FIFO depth must be a power of two")
        let io = Interface(c)
        return try ModuleDefinition.define(c.moduleName) { m in
            let inValid = m.input(io.inValid)
            let inData = m.input(io.inData)
            let outReady = m.input(io.outReady)
            let p = c.pointerBits
            let wr = m.register("wr_ptr", .unsigned(p))
            let rd = m.register("rd_ptr", .unsigned(p))
            let used = (wr &- rd).named("used")
            let full = used .== c.depth
            let empty = wr .== rd
            let push = (inValid & ~full).named("push")
            let pop = (~empty & outReady).named("pop")
            let mem = m.memory("entries", width: c.width, depth: c.depth)
            mem.write(address: wr.bits(p - 2, 0), data: inData, enable: push)
            wr.assign(wr &+ push.extended(to: p))
            rd.assign(rd &+ pop.extended(to: p))
            m.output(io.inReady, ~full)
            m.output(io.outValid, ~empty)
            // Empty entries hold whatever the memory powered up with: show zeros instead, so no
            // undefined value reaches the output (an X in a four-state simulator).
            m.output(io.outData, mux(empty, m.constant(0, inData.shape), mem.read(address: rd.bits(p - 2, 0))))
        }
    }
}
