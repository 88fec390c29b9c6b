import Cores
import HDL

/// The accelerator's generator (docs/ACCELERATOR.md). The top holds the AXI4-Lite register file
/// and instantiates the core (controller, DMA, banks, array) with a reset of its own, so a soft
/// reset restarts the core once its AXI transactions have drained while the registers keep
/// their values.
public enum Accelerator {
    /// The top's ports: `s_axil_*` (registers), `m_axi_*` (DRAM), `irq`.
    public struct Interface: Sendable {
        public let axil: AXI4LitePorts
        public let axi: AXI4Ports
        public let irq: Port
        public init(_ c: AcceleratorConfig) {
            axil = AXI4LitePorts(prefix: "s_axil", role: .subordinate, addressBits: 12, dataBits: 32)
            axi = AXI4Ports(prefix: "m_axi", role: .manager, addressBits: c.addressBits, dataBits: c.dataBits)
            irq = .output("irq", .bit)
        }
    }

    /// The core's ports besides `m_axi_*`: what the register file sets and reads.
    struct CoreInterface {
        let start = Port.input("start", .bit), abort = Port.input("abort", .bit)
        let progBase = Port.input("prog_base", .unsigned(64)), progLen = Port.input("prog_len", .unsigned(32))
        let winBase = Port.input("win_base", .unsigned(64)), winSize = Port.input("win_size", .unsigned(64))
        let busy = Port.output("busy", .bit), quiescent = Port.output("quiescent", .bit)
        let finish = Port.output("finish", .bit), fail = Port.output("fail", .bit), failCode = Port.output("fail_code", .unsigned(4))
        let pc = Port.output("pc", .unsigned(32)), cycles = Port.output("cycles", .unsigned(64))
        let compute = Port.output("compute_cycles", .unsigned(32)), stall = Port.output("stall_cycles", .unsigned(32))
        let readBytes = Port.output("read_bytes", .unsigned(32)), writeBytes = Port.output("write_bytes", .unsigned(32))
    }

    public static func module(_ c: AcceleratorConfig) throws -> ModuleDefinition {
        try c.validate()
        let coreDef = try core(c)
        let io = Interface(c), k = CoreInterface()
        let map = RegisterMap.accelerator(c)
        let hardware = RegisterMap.hardwareValues(c)
        return try ModuleDefinition.define(c.moduleName) { m in
            let regs = Updates(m)
            let lite = m.axi4Lite(io.axil)

            // AXI4-Lite subordinate: the write address and data are taken independently; the
            // register is written once both are in and the previous response has gone.
            let awHave = regs.reg("aw_have", 1), wHave = regs.reg("w_have", 1), bValid = regs.reg("b_valid", 1)
            let awAddr = regs.reg("aw_addr", 12, reset: nil), wData = regs.reg("w_data", 32, reset: nil), wStrb = regs.reg("w_strb", 4, reset: nil)
            lite.aw.ready!.assign(~awHave.q)
            lite.w.ready!.assign(~wHave.q)
            awHave.set(lite.aw.fire, 1); awAddr.set(lite.aw.fire, lite.aw["addr"])
            wHave.set(lite.w.fire, 1); wData.set(lite.w.fire, lite.w["data"]); wStrb.set(lite.w.fire, lite.w["strb"])
            let write = (awHave.q & wHave.q & ~bValid.q).named("reg_write")
            awHave.set(write, 0); wHave.set(write, 0); bValid.set(write, 1)
            bValid.set(lite.b.fire, 0)
            lite.b.valid.assign(bValid.q)
            lite.b["resp"].assign(m.constant(0, .unsigned(2)))
            let index = awAddr.q.bits(11, 2)
            func writes(_ name: String) -> Signal { write & (index .== map[name].offset / 4) }
            let byteMask = cat((0..<4).reversed().map { i in mux(wStrb.q.bit(i), m.constant(0xFF, .unsigned(8)), m.constant(0, .unsigned(8))) })
            func merged(_ old: Signal) -> Signal { (old & ~byteMask) | (wData.q & byteMask) }

            // Host-written registers.
            func hostRegister(_ name: String, reset: Int128 = 0) -> Signal {
                let r = regs.reg(name.lowercased() + "_q", 32, reset: reset)
                r.set(writes(name), merged(r.q))
                return r.q
            }
            let progBase = cat(hostRegister("PROG_BASE_HI"), hostRegister("PROG_BASE_LO"))
            let progLen = hostRegister("PROG_LEN")
            let winBase = cat(hostRegister("WINDOW_BASE_HI"), hostRegister("WINDOW_BASE_LO"))
            let winSize = cat(hostRegister("WINDOW_SIZE_HI"), hostRegister("WINDOW_SIZE_LO"))
            let ctrlWrite = writes("CTRL") & wStrb.q.bit(0)
            let irqEnable = regs.reg("irq_enable_q", 1)
            irqEnable.set(ctrlWrite, wData.q.bit(2))

            // Soft reset: ask the core to stop issuing, then reset it once nothing is outstanding.
            let abort = regs.reg("abort_q", 1)
            let coreBusy = m.wire("core_busy", .bit), quiescent = m.wire("core_quiescent", .bit)
            let softReset = (abort.q & quiescent).named("soft_reset")
            abort.set(ctrlWrite & wData.q.bit(1), 1)
            abort.set(softReset, 0)
            let start = regs.reg("start_q", 1)
            start.set(m.constant(1, .bit), ctrlWrite & wData.q.bit(0) & ~coreBusy & ~abort.q)

            let coreInputs: [Port: Signal] = [k.start: start.q, k.abort: abort.q, k.progBase: progBase, k.progLen: progLen,
                                              k.winBase: winBase, k.winSize: winSize]
            var connections = Dictionary(uniqueKeysWithValues: coreInputs.map { ($0.key.name, $0.value) })
            for p in io.axi.ports where p.direction == .input { connections[p.name] = m.input(p) }
            connections[Port.reset.name] = (m.reset | softReset).named("core_rst")
            let core = m.instance(coreDef, name: "core", connections)
            for p in io.axi.ports where p.direction == .output { m.output(p, core[p]) }
            coreBusy.assign(core[k.busy])
            quiescent.assign(core[k.quiescent])

            // STATUS.
            let done = regs.reg("done_q", 1), failed = regs.reg("error_q", 1), code = regs.reg("error_code_q", 4)
            let statusWrite = writes("STATUS") & wStrb.q.bit(0)
            done.set(core[k.finish], 1)
            done.set(statusWrite & wData.q.bit(1), 0)
            failed.set(core[k.fail], 1); code.set(core[k.fail], core[k.failCode])
            for r in [done, failed, code] { r.set(start.q | softReset, 0) }
            m.output(io.irq, irqEnable.q & (done.q | failed.q))

            // Reads.
            let arIndex = lite.ar["addr"].bits(11, 2)
            var values: [Int: Signal] = [:]
            func value(_ name: String, _ v: Signal) { values[map[name].offset / 4] = v.width < 32 ? v.zeroExtended(to: 32) : v }
            value("CTRL", cat(irqEnable.q, m.constant(0, .unsigned(2))))
            value("STATUS", cat(code.q, m.constant(0, .unsigned(5)), failed.q, done.q, coreBusy | abort.q))
            value("PROG_BASE_LO", progBase.bits(31, 0)); value("PROG_BASE_HI", progBase.bits(63, 32))
            value("PROG_LEN", progLen); value("PC", core[k.pc])
            value("WINDOW_BASE_LO", winBase.bits(31, 0)); value("WINDOW_BASE_HI", winBase.bits(63, 32))
            value("WINDOW_SIZE_LO", winSize.bits(31, 0)); value("WINDOW_SIZE_HI", winSize.bits(63, 32))
            value("CYCLES_LO", core[k.cycles].bits(31, 0)); value("CYCLES_HI", core[k.cycles].bits(63, 32))
            value("COMPUTE_CYCLES", core[k.compute]); value("STALL_CYCLES", core[k.stall])
            value("DMA_READ_BYTES", core[k.readBytes]); value("DMA_WRITE_BYTES", core[k.writeBytes])
            for (name, v) in hardware { value(name, m.constant(Int128(v), .unsigned(32))) }
            let zero = m.constant(0, .unsigned(32))
            let cases = (0..<(values.keys.max()! + 1)).map { values[$0] ?? zero }
            let rValid = regs.reg("r_valid", 1), rData = regs.reg("r_data", 32, reset: nil)
            lite.ar.ready!.assign(~rValid.q)
            rValid.set(lite.ar.fire, 1); rData.set(lite.ar.fire, select(arIndex, cases, default: zero))
            rValid.set(lite.r.fire, 0)
            lite.r.valid.assign(rValid.q)
            lite.r.data.assign(rData.q)
            lite.r["resp"].assign(m.constant(0, .unsigned(2)))
            regs.close()
        }
    }
}

/// Registers written from prioritised cases (a later `set` wins), closed once at the end: the
/// controller's state machines read like the tables of docs/ACCELERATOR.md.
final class Updates {
    final class Register {
        let q: Signal
        let m: ModuleBuilder
        var cases: [(Signal, Signal)] = []
        init(_ q: Signal, _ m: ModuleBuilder) { (self.q, self.m) = (q, m) }
        func set(_ when: Signal, _ value: Signal) { cases.append((when, value)) }
        func set(_ when: Signal, _ value: Int) { cases.append((when, m.constant(Int128(value), q.shape))) }
    }

    let m: ModuleBuilder
    private var all: [Register] = []
    init(_ m: ModuleBuilder) { self.m = m }

    func reg(_ name: String, _ width: Int, reset: Int128? = 0, file: String = #fileID, line: Int = #line) -> Register {
        let r = Register(m.register(name, .unsigned(width), reset: reset, file: file, line: line), m)
        all.append(r)
        return r
    }

    func close() {
        for r in all {
            r.q.assign(r.cases.reduce(r.q) { next, c in mux(c.0, fit(c.1, r.q.width), next) })
        }
    }
}

/// `v` as an unsigned value of `width` bits: zero-extended or truncated.
func fit(_ v: Signal, _ width: Int) -> Signal {
    let u = v.asUnsigned
    return u.width < width ? u.extended(to: width) : u.width > width ? u.truncated(to: width) : u
}
