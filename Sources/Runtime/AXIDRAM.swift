import HDL
import Model

/// A DRAM behind an AXI4 subordinate port, for driving a design's `m_axi_*` cycle by cycle:
/// sparse byte memory, a fixed latency from an address handshake to its first data beat or
/// response, a bandwidth in bytes per cycle, optional random backpressure from a seed, and
/// counts of bytes and bursts. Responses come in the order the addresses were taken (one ID).
/// Address ranges can be made to answer SLVERR or DECERR (fault tests).
public final class AXIDRAM {
    public struct Timing: Sendable {
        public var latency: Int
        public var bytesPerCycle: Int
        /// Probability that a ready (AR, AW, W) is low, or a due R beat or B response held back,
        /// in a cycle; 0 for none.
        public var backpressure: Double
        public var seed: UInt64
        public init(latency: Int = 20, bytesPerCycle: Int = 8, backpressure: Double = 0, seed: UInt64 = 1) {
            (self.latency, self.bytesPerCycle, self.backpressure, self.seed) = (latency, bytesPerCycle, backpressure, seed)
        }
    }

    public struct Counts: Sendable, Equatable {
        public var bytesRead = 0, bytesWritten = 0, readBursts = 0, writeBursts = 0
    }

    public let ports: AXI4Ports
    public var timing: Timing
    public private(set) var counts = Counts()
    /// [start, end) ranges and the response (AXI.respSlverr or AXI.respDecerr) they give.
    public var faults: [(range: Range<UInt64>, resp: Int128)] = []
    private var pages: [UInt64: [UInt8]] = [:]
    private var random: SplitMix64
    private var credit = 0

    struct Burst { var addr: UInt64; var beats: Int; var due: Int; var resp: Int128; var done = 0 }
    private var reads: [Burst] = [], writes: [Burst] = [], responses: [Burst] = []
    // What the subordinate drives this cycle (held while valid and not taken).
    private var rValid = false, rData: [UInt64] = [], rLast = false, rResp: Int128 = 0
    private var bValid = false, bResp: Int128 = 0
    private var arReady = false, awReady = false, wReady = false

    public init(ports: AXI4Ports, timing: Timing = Timing()) {
        precondition(ports.role == .manager, "the DRAM answers a manager's port")
        self.ports = ports
        self.timing = timing
        random = SplitMix64(seed: timing.seed)
    }

    // MARK: Memory

    public func write(_ bytes: [UInt8], at address: UInt64) {
        for (i, b) in bytes.enumerated() { store(address + UInt64(i), b) }
    }

    public func read(_ count: Int, at address: UInt64) -> [UInt8] {
        (0..<count).map { load(address + UInt64($0)) }
    }

    private func store(_ a: UInt64, _ b: UInt8) {
        pages[a >> 12, default: [UInt8](repeating: 0, count: 4096)][Int(a & 4095)] = b
    }

    private func load(_ a: UInt64) -> UInt8 { pages[a >> 12]?[Int(a & 4095)] ?? 0 }

    private func fault(_ addr: UInt64, bytes: Int) -> Int128 {
        faults.first { $0.range.overlaps(addr..<addr + UInt64(bytes)) }?.resp ?? AXI.respOkay
    }

    private func chance() -> Bool {
        timing.backpressure > 0 && Double(random.next() >> 11) / Double(1 << 53) < timing.backpressure
    }

    // MARK: One cycle

    /// Sets the subordinate's outputs for this cycle (before the design's outputs are read).
    public func drive(_ sim: any CycleSimulator, cycle: Int) throws {
        credit = min(credit + timing.bytesPerCycle, max(ports.beatBytes, timing.bytesPerCycle) * 2)
        arReady = !chance()
        awReady = !chance()
        wReady = !writes.isEmpty && writes.first!.done < writes.first!.beats && !chance()
        if !rValid, let head = reads.first, head.due <= cycle, credit >= ports.beatBytes, !chance() {
            let addr = head.addr + UInt64(head.done * ports.beatBytes)
            let bytes = head.resp == AXI.respOkay ? read(ports.beatBytes, at: addr) : [UInt8](repeating: 0, count: ports.beatBytes)
            rData = stride(from: 0, to: bytes.count, by: 8).map { w in (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[w + $1]) << (8 * UInt64($1)) } }
            (rValid, rLast, rResp) = (true, head.done == head.beats - 1, head.resp)
            credit -= ports.beatBytes
        }
        if !bValid, let head = responses.first, head.due <= cycle, !chance() {
            (bValid, bResp) = (true, head.resp)
        }
        try sim.poke(ports.ar.ready!.name, arReady ? 1 : 0)
        try sim.poke(ports.aw.ready!.name, awReady ? 1 : 0)
        try sim.poke(ports.w.ready!.name, wReady ? 1 : 0)
        try sim.poke(ports.r.valid.name, rValid ? 1 : 0)
        try sim.poke(ports.r.data!.name, words: rValid ? rData : [])
        try sim.poke(ports.r["resp"]!.name, rValid ? rResp : 0)
        try sim.poke(ports.r.last!.name, rValid && rLast ? 1 : 0)
        try sim.poke(ports.b.valid.name, bValid ? 1 : 0)
        try sim.poke(ports.b["resp"]!.name, bValid ? bResp : 0)
    }

    /// Takes what the design put on the channels this cycle (after `drive`, before the edge).
    public func observe(_ sim: any CycleSimulator, cycle: Int) throws {
        func high(_ p: Port) throws -> Bool { try sim.peekUnsigned(p.name) != 0 }
        func value(_ p: Port?) throws -> UInt64 { UInt64(truncatingIfNeeded: try sim.peekUnsigned(p!.name)) }
        if arReady, try high(ports.ar.valid) {
            let addr = try value(ports.ar["addr"]), beats = Int(try value(ports.ar["len"])) + 1
            reads.append(Burst(addr: addr, beats: beats, due: cycle + timing.latency, resp: fault(addr, bytes: beats * ports.beatBytes)))
            counts.readBursts += 1
        }
        if awReady, try high(ports.aw.valid) {
            let addr = try value(ports.aw["addr"]), beats = Int(try value(ports.aw["len"])) + 1
            writes.append(Burst(addr: addr, beats: beats, due: 0, resp: fault(addr, bytes: beats * ports.beatBytes)))
            counts.writeBursts += 1
        }
        if wReady, try high(ports.w.valid) {
            var head = writes[0]
            let data = try sim.peek(ports.w.data!.name)
            let strobes = try sim.peek(ports.w["strb"]!.name)[0]
            let addr = head.addr + UInt64(head.done * ports.beatBytes)
            if head.resp == AXI.respOkay {
                for i in 0..<ports.beatBytes where strobes >> UInt64(i) & 1 == 1 {
                    store(addr + UInt64(i), UInt8(truncatingIfNeeded: data[i / 8] >> (8 * UInt64(i % 8))))
                    counts.bytesWritten += 1
                }
            }
            head.done += 1
            if head.done == head.beats {
                writes.removeFirst()
                head.due = cycle + timing.latency
                responses.append(head)
            } else {
                writes[0] = head
            }
        }
        if rValid, try high(ports.r.ready!) {
            rValid = false
            counts.bytesRead += ports.beatBytes
            reads[0].done += 1
            if reads[0].done == reads[0].beats { reads.removeFirst() }
        }
        if bValid, try high(ports.b.ready!) {
            bValid = false
            responses.removeFirst()
        }
    }

    /// Nothing outstanding on any channel.
    public var idle: Bool { reads.isEmpty && writes.isEmpty && responses.isEmpty && !rValid && !bValid }
}

/// A protocol violation: the cycle, the channel and what was wrong.
public struct AXIViolation: Error, CustomStringConvertible, Equatable {
    public let cycle: Int
    public let channel: String
    public let problem: String
    public init(cycle: Int, channel: String, problem: String) { (self.cycle, self.channel, self.problem) = (cycle, channel, problem) }
    public var description: String { "AXI violation in cycle \(cycle) on \(channel): \(problem)" }
}

/// Watches every channel of an AXI4 port (and of any other valid/ready channels, such as an
/// AXI4-Lite port): payload stable and valid held while valid && !ready; on AR and AW, INCR
/// bursts of full-width beats, at most 256 beats, aligned, never crossing 4 KiB; WLAST on each
/// burst's last beat; no more responses or read beats than were asked for, RLAST on the last.
public final class AXIChecker {
    private let channels: [StreamPorts]
    private let axi: AXI4Ports?
    private var held: [String: [[UInt64]]] = [:]
    private var awBeats: [Int] = [], wBurstBeats: [Int] = [], wBeat = 0
    private var arBeats: [Int] = [], rBeat = 0
    private var awCount = 0, bCount = 0
    public private(set) var handshakes = 0

    public init(axi: AXI4Ports?, others: [StreamPorts] = []) {
        self.axi = axi
        channels = (axi?.channels ?? []) + others
    }

    /// Call after the outputs of both ends are settled, before the clock edge.
    public func check(_ sim: any CycleSimulator, cycle: Int) throws {
        func fail(_ channel: String, _ problem: String) -> AXIViolation {
            AXIViolation(cycle: cycle, channel: channel, problem: problem)
        }
        for ch in channels {
            let name = ch.valid.name.replacingOccurrences(of: "valid", with: "")
            let valid = try sim.peekUnsigned(ch.valid.name) != 0
            let ready = try ch.ready.map { try sim.peekUnsigned($0.name) != 0 } ?? true
            let payload = try ch.payload.map { try sim.peek($0.port.name) }
            if let previous = held[name] {
                guard valid else { throw fail(name, "valid dropped before the handshake") }
                if previous != payload {
                    let which = zip(ch.payload, zip(previous, payload)).first { $0.1.0 != $0.1.1 }!.0.port.name
                    throw fail(name, "\(which) changed while valid and not ready")
                }
            }
            held[name] = valid && !ready ? payload : nil
            guard valid && ready else { continue }
            handshakes += 1
            guard let axi else { continue }
            func field(_ role: String) -> UInt64 { payload[ch.payload.firstIndex { $0.role == role }!][0] }
            switch ch {
            case axi.ar, axi.aw:
                let addr = field("addr"), beats = Int(field("len")) + 1
                if field("burst") != UInt64(AXI.burstIncr) { throw fail(name, "burst type \(field("burst")) is not INCR") }
                if field("size") != UInt64(axi.fullSize) { throw fail(name, "size \(field("size")) is not the full beat (\(axi.fullSize))") }
                if beats > AXI.maxBurstBeats { throw fail(name, "\(beats) beats (at most \(AXI.maxBurstBeats))") }
                if addr % UInt64(axi.beatBytes) != 0 { throw fail(name, "address 0x\(String(addr, radix: 16)) is not beat-aligned") }
                let end = addr + UInt64(beats * axi.beatBytes)
                if (addr / UInt64(AXI.burstBoundaryBytes)) != ((end - 1) / UInt64(AXI.burstBoundaryBytes)) {
                    throw fail(name, "burst 0x\(String(addr, radix: 16))...0x\(String(end - 1, radix: 16)) crosses a 4 KiB boundary")
                }
                if ch == axi.ar { arBeats.append(beats) } else { awBeats.append(beats); awCount += 1 }
            case axi.w:
                wBeat += 1
                // The current W burst belongs to the oldest address not yet matched with its data.
                if let expected = awBeats.first, field("last") == 0, wBeat >= expected {
                    throw fail(name, "beat \(wBeat) of a \(expected)-beat burst without WLAST")
                }
                if field("last") == 1 { wBurstBeats.append(wBeat); wBeat = 0 }
                while let e = awBeats.first, let got = wBurstBeats.first {
                    if e != got { throw fail(name, "WLAST after \(got) beats of a \(e)-beat burst") }
                    awBeats.removeFirst(); wBurstBeats.removeFirst()
                }
            case axi.b:
                bCount += 1
                if bCount > awCount { throw fail(name, "a write response with no write outstanding") }
            case axi.r:
                guard let expected = arBeats.first else { throw fail(name, "a read beat with no read outstanding") }
                rBeat += 1
                if (field("last") == 1) != (rBeat == expected) { throw fail(name, "RLAST \(field("last")) on beat \(rBeat) of \(expected)") }
                if rBeat == expected { arBeats.removeFirst(); rBeat = 0 }
            default: break
            }
        }
    }
}
