import Testing
import HDL

private let file = fileID("BundleTests")

/// A one-entry pipeline register between two streams (a "register slice" without the skid
/// buffer): it takes a beat when empty or when its beat leaves in the same cycle.
private func slice(width: Int = 8) throws -> ModuleDefinition {
    try ModuleDefinition.define("slice") { m in
        let input = m.stream(.stream("in", data: .unsigned(width), last: true, direction: .input))
        let output = m.stream(.stream("out", data: .unsigned(width), last: true, direction: .output))
        let stage = m.streamWires(output.ports, prefix: "stage")
        let full = m.register("full_q", .bit)
        let data = m.register("data_q", .unsigned(width), reset: nil, enable: input.fire)
        let last = m.register("last_q", .bit, reset: nil, enable: input.fire)
        data.assign(input.data)
        last.assign(input.last!)
        input.ready!.assign(~full | stage.ready!)
        full.assign(input.fire | (full & ~stage.ready!))
        stage.valid.assign(full)
        stage.data.assign(data)
        stage.last!.assign(last)
        m.connect(output, from: stage)
    }
}

@Suite("Bundles")
struct BundleTests {
    @Test func aStreamIsNamedAfterItsPrefixAndFlipsWhole() {
        let s = StreamPorts.stream("a", data: .unsigned(16), last: true, direction: .input)
        #expect(s.ports.map(\.name) == ["a_valid", "a_ready", "a_data", "a_last"])
        #expect(s.ports.map(\.direction) == [.input, .output, .input, .input])
        #expect(s.data?.shape == .unsigned(16))
        let f = s.flipped
        #expect(f.ports.map(\.name) == s.ports.map(\.name))
        #expect(f.ports.map(\.direction) == [.output, .input, .output, .output])
        #expect(f.flipped == s)
        let noReady = StreamPorts.stream("x", data: .bit, ready: false, direction: .output)
        #expect(noReady.ports.map(\.name) == ["x_valid", "x_data"])
        #expect(noReady.last == nil)
    }

    @Test func aDeclaredStreamBecomesPortsInOrder() throws {
        let d = try slice()
        #expect(d.ports.map(\.name) == ["clk", "rst", "in_valid", "in_data", "in_last", "out_ready",
                                        "in_ready", "out_valid", "out_data", "out_last"])
    }

    /// Every beat offered comes out once, in order, whatever the ready pattern: checked against
    /// a plain queue in the in-process simulator.
    @Test func aSliceBetweenStreamsLosesAndDuplicatesNothing() throws {
        let sim = CircuitSimulator(try slice())
        var rng = SystemRandomNumberGenerator()
        try sim.poke("rst", 1)
        try sim.step()
        try sim.poke("rst", 0)
        var next = 0, expected: [Int] = [], received: [Int] = []
        var offered = false
        for _ in 0..<2_000 {
            // A producer keeps its beat offered until it is taken (AXI-Stream's rule).
            if !offered { offered = Bool.random(using: &rng) }
            try sim.poke("in_valid", offered ? 1 : 0)
            try sim.poke("in_data", Int128(next & 0xff))
            try sim.poke("in_last", Int128(next % 3 == 0 ? 1 : 0))
            let ready = Bool.random(using: &rng)
            try sim.poke("out_ready", ready ? 1 : 0)
            if try sim.peekUnsigned("out_valid") == 1 && ready {
                let beat = Int(try sim.peekUnsigned("out_data")) | Int(try sim.peekUnsigned("out_last")) << 8
                received.append(beat)
            }
            let taken = try sim.peekUnsigned("in_ready") == 1
            if offered && taken {
                expected.append((next & 0xff) | (next % 3 == 0 ? 1 : 0) << 8)
                next += 1
                offered = false
            }
            try sim.step()
        }
        #expect(next > 300)
        #expect(received == Array(expected.prefix(received.count)))
        #expect(expected.count - received.count <= 1)
    }

    @Test func connectingStreamsOfOtherShapesIsAnError() {
        let line = #line + 4
        let e = elaborationError { m in
            let input = m.stream(.stream("in", data: .unsigned(8), direction: .input))
            let output = m.stream(.stream("out", data: .unsigned(9), direction: .output))
            m.connect(output, from: input)
        }
        #expect(e?.description.contains("stream mismatch: 'in_valid' carries [data: u8] but 'out_valid' takes [data: u9]") == true,
                "\(e?.description ?? "no error")")
        #expect(mentions(e?.description ?? "", file, line: line))
    }

    @Test func connectingAStreamWithoutReadyToOneWithReadyIsAnError() {
        let e = elaborationError { m in
            let input = m.stream(.stream("in", data: .unsigned(8), ready: false, direction: .input))
            let output = m.stream(.stream("out", data: .unsigned(8), direction: .output))
            m.connect(output, from: input)
        }
        #expect(e?.description.contains("without ready") == true, "\(e?.description ?? "no error")")
    }

    @Test func drivingAnInputStreamIsADirectionError() {
        let line = #line + 4
        let e = elaborationError { m in
            let a = m.stream(.stream("a", data: .unsigned(8), direction: .input))
            let b = m.stream(.stream("b", data: .unsigned(8), direction: .input))
            m.connect(b, from: a)
        }
        #expect(e?.description.contains("stream direction: valid 'b_valid' is an input of 'dut' and cannot be driven") == true,
                "\(e?.description ?? "no error")")
        #expect(mentions(e?.description ?? "", file, line: line))
    }

    @Test func axi4ManagerPortsFollowTheBusNamingConvention() {
        let axi = AXI4Ports(addressBits: 32, dataBits: 64, idBits: 2)
        #expect(axi.aw.ports.map(\.name) == ["m_axi_awvalid", "m_axi_awready", "m_axi_awid", "m_axi_awaddr", "m_axi_awlen",
                                             "m_axi_awsize", "m_axi_awburst", "m_axi_awcache", "m_axi_awprot"])
        #expect(axi.w.ports.map(\.name) == ["m_axi_wvalid", "m_axi_wready", "m_axi_wdata", "m_axi_wstrb", "m_axi_wlast"])
        #expect(axi.b.ports.map(\.name) == ["m_axi_bvalid", "m_axi_bready", "m_axi_bid", "m_axi_bresp"])
        #expect(axi.r.ports.map(\.name) == ["m_axi_rvalid", "m_axi_rready", "m_axi_rid", "m_axi_rdata", "m_axi_rresp", "m_axi_rlast"])
        #expect(axi.w["strb"]?.shape == .unsigned(8))
        #expect(axi.ar["len"]?.shape == .unsigned(8))
        #expect(axi.fullSize == 3)
        // A manager drives addresses and write data and takes responses and read data.
        #expect(axi.aw.direction == .output && axi.w.direction == .output && axi.ar.direction == .output)
        #expect(axi.b.direction == .input && axi.r.direction == .input)
        let sub = AXI4Ports(prefix: "s_axi", role: .subordinate, addressBits: 32, dataBits: 64)
        #expect(sub.aw.direction == .input && sub.r.direction == .output)
        #expect(sub.ports.count == AXI4Ports(prefix: "s_axi", addressBits: 32, dataBits: 64).ports.count)
        #expect(!sub.aw.ports.contains { $0.name == "s_axi_awid" })
    }

    @Test func axi4LiteHasNoBurstsOrLast() {
        let l = AXI4LitePorts(addressBits: 8)
        #expect(l.ports.map(\.name) == [
            "s_axil_awvalid", "s_axil_awready", "s_axil_awaddr", "s_axil_awprot",
            "s_axil_wvalid", "s_axil_wready", "s_axil_wdata", "s_axil_wstrb",
            "s_axil_bvalid", "s_axil_bready", "s_axil_bresp",
            "s_axil_arvalid", "s_axil_arready", "s_axil_araddr", "s_axil_arprot",
            "s_axil_rvalid", "s_axil_rready", "s_axil_rdata", "s_axil_rresp",
        ])
        #expect(l.aw.direction == .input && l.b.direction == .output)
    }

    /// One 32-bit register behind an AXI4-Lite subordinate, written and read back through the
    /// bus in the in-process simulator.
    @Test func anAXI4LiteRegisterWritesAndReadsBack() throws {
        let d = try ModuleDefinition.define("reg32") { m in
            let bus = m.axi4Lite(AXI4LitePorts(addressBits: 4))
            // One write at a time: take AW and W together, answer on B.
            let bPending = m.register("b_pending_q", .bit)
            let take = (bus.aw.valid & bus.w.valid & ~bPending).named("take")
            bus.aw.ready!.assign(take)
            bus.w.ready!.assign(take)
            let value = m.register("value_q", .unsigned(32), enable: take & (bus.aw["addr"] .== 0))
            value.assign(bus.w.data)
            bPending.assign(take | (bPending & ~bus.b.ready!))
            bus.b.valid.assign(bPending)
            bus.b["resp"].assign(0)
            let rPending = m.register("r_pending_q", .bit)
            let rData = m.register("r_data_q", .unsigned(32), enable: bus.ar.fire)
            rData.assign(mux(bus.ar["addr"] .== 0, value, m.constant(0xdead_beef, .unsigned(32))))
            bus.ar.ready!.assign(~rPending)
            rPending.assign(bus.ar.fire | (rPending & ~bus.r.ready!))
            bus.r.valid.assign(rPending)
            bus.r.data.assign(rData)
            bus.r["resp"].assign(0)
            _ = (bus.aw["prot"], bus.ar["prot"], bus.w["strb"])
        }
        let sim = CircuitSimulator(d)
        try sim.poke("rst", 1)
        try sim.step()
        try sim.poke("rst", 0)
        for p in ["s_axil_awaddr", "s_axil_awprot", "s_axil_araddr", "s_axil_arprot", "s_axil_wstrb"] { try sim.poke(p, 0) }
        try sim.poke("s_axil_awvalid", 1)
        try sim.poke("s_axil_wvalid", 1)
        try sim.poke("s_axil_wdata", 0x1234_5678)
        try sim.poke("s_axil_bready", 1)
        #expect(try sim.peekUnsigned("s_axil_awready") == 1)
        try sim.step()
        try sim.poke("s_axil_awvalid", 0)
        try sim.poke("s_axil_wvalid", 0)
        #expect(try sim.peekUnsigned("s_axil_bvalid") == 1)
        try sim.step()
        #expect(try sim.peekUnsigned("s_axil_bvalid") == 0)
        try sim.poke("s_axil_arvalid", 1)
        try sim.poke("s_axil_rready", 1)
        try sim.step()
        try sim.poke("s_axil_arvalid", 0)
        #expect(try sim.peekUnsigned("s_axil_rvalid") == 1)
        #expect(try sim.peekUnsigned("s_axil_rdata") == 0x1234_5678)
    }
}
