import Foundation

/// A queue of beats fed to a design through a valid/ready handshake.
///
/// (Named `StreamInput`, not `InputStream`, so it never clashes with
/// Foundation's `InputStream` in code that imports both.)
public struct StreamInput: Hashable, Sendable {
    /// 1-bit inputs driven together: 1 while a beat is offered, else 0
    /// (e.g. `["a_valid", "b_valid"]`).
    public var valid: [String]
    /// 1-bit outputs that must all be 1 for the offered beat to be accepted
    /// (e.g. `["a_ready", "b_ready"]`). Empty: accepted whenever offered.
    public var ready: [String]
    /// Inputs carried by each beat, in order (e.g. `["a_data", "a_last", "b_data"]`).
    public var data: [String]
    /// The beats, flat: each beat is the words of its data ports in order,
    /// `ceil(width / 64)` words per port (least significant first). Values are
    /// masked to the port widths.
    public var beats: [UInt64]

    public init(valid: [String], ready: [String], data: [String], beats: [UInt64]) {
        self.valid = valid
        self.ready = ready
        self.data = data
        self.beats = beats
    }

    /// One valid and one ready port.
    public init(valid: String, ready: String, data: [String], beats: [UInt64]) {
        self.init(valid: [valid], ready: [ready], data: data, beats: beats)
    }
}

/// When the host takes an output beat: the value driven on the output's ready
/// input in each cycle of a stream run (cycle 0 = the first cycle of the call).
public enum ReadyPattern: Hashable, Sendable {
    /// Ready every cycle.
    case always
    /// Ready with the given probability, independently each cycle: ready in
    /// cycle c when `(x_c >> 32) < round(probability * 2^32)`, x_c being the
    /// (c+1)-th output of SplitMix64 started from `seed` (computed in the driver,
    /// Testbench/cosim_driver.cpp). Reproducible from `seed`; Runtime's
    /// `ReadyPattern.values(cycles:)` lists the values on the host.
    case random(probability: Double, seed: UInt64)
    /// `pattern[c % pattern.count]`.
    case repeating([Bool])

    /// round(p * 2^32), clamped to 0...2^32.
    public static func threshold(_ p: Double) -> UInt64 {
        let scaled = (p * 4_294_967_296.0).rounded()
        return scaled <= 0 ? 0 : scaled >= 4_294_967_296.0 ? 1 << 32 : UInt64(scaled)
    }
}

/// The output side of a stream run: beats are taken in cycles where the
/// design's `valid` output and the host's `ready` input are both 1.
public struct StreamOutput: Hashable, Sendable {
    /// 1-bit output of the design.
    public var valid: String
    /// 1-bit input of the design, driven from `readyPattern`.
    public var ready: String
    /// Outputs recorded with each delivered beat, in order (may be empty).
    public var data: [String]
    public var readyPattern: ReadyPattern

    public init(valid: String, ready: String, data: [String], readyPattern: ReadyPattern = .always) {
        self.valid = valid
        self.ready = ready
        self.data = data
        self.readyPattern = readyPattern
    }
}

/// What a stream run did. Cycle numbers count from 0 at the start of the call;
/// add `startCycle` for the simulation's absolute cycle.
public struct StreamResult: Hashable, Sendable {
    /// Delivered output beats, flat: `wordsPerBeat` words each (the output's
    /// data ports in order, `ceil(width / 64)` words per port).
    public let beats: [UInt64]
    public let wordsPerBeat: Int
    /// The cycle each output beat was delivered in (strictly increasing).
    public let deliveryCycles: [Int]
    /// Per input stream, the cycle each of its beats was accepted in (only the
    /// beats accepted before the run stopped).
    public let acceptCycles: [[Int]]
    /// Cycles simulated by this call.
    public let cycles: Int
    /// `Simulation.cycle` when the call started.
    public let startCycle: Int
    /// Every input beat was accepted and at least the expected number of
    /// output beats was delivered (false: the run hit `maxCycles`).
    public let complete: Bool

    public init(beats: [UInt64], wordsPerBeat: Int, deliveryCycles: [Int], acceptCycles: [[Int]], cycles: Int,
                startCycle: Int, complete: Bool) {
        (self.beats, self.wordsPerBeat, self.deliveryCycles, self.acceptCycles) = (beats, wordsPerBeat, deliveryCycles, acceptCycles)
        (self.cycles, self.startCycle, self.complete) = (cycles, startCycle, complete)
    }

    /// Number of delivered output beats.
    public var deliveredBeats: Int { deliveryCycles.count }
    /// Number of accepted beats per input stream.
    public var acceptedBeats: [Int] { acceptCycles.map(\.count) }
    /// The first cycle any input beat was accepted in.
    public var firstAcceptCycle: Int? { acceptCycles.compactMap(\.first).min() }
    /// The cycle the last output beat was delivered in.
    public var lastDeliveryCycle: Int? { deliveryCycles.last }

    /// The words of delivered beat `i`.
    public func beat(_ i: Int) -> ArraySlice<UInt64> {
        beats[i * wordsPerBeat..<(i + 1) * wordsPerBeat]
    }
}

extension Simulation {
    /// Stream mode, one round trip: feeds queues of beats into the design
    /// through valid/ready handshakes and records the output beats it delivers.
    /// The whole run happens inside the driver, so it follows the design's
    /// backpressure cycle by cycle at bulk-mode speed.
    ///
    /// First the `hold` inputs are poked (they keep their values; e.g.
    /// `["rst": 0]`). Then, for each cycle c = 0, 1, ...:
    ///  1. stop when every input queue is empty and at least `expectBeats`
    ///     output beats were delivered, or when c == `maxCycles`;
    ///  2. each input stream with beats left drives its valid ports to 1 and its
    ///     data ports to its head beat; an empty one drives valid to 0 (its data
    ///     ports keep the last beat);
    ///  3. the output's ready is driven from its `readyPattern` (value of cycle c);
    ///  4. the design is evaluated (so ready outputs may depend on valid inputs
    ///     combinationally, as valid/ready allows; valid must not wait for ready);
    ///  5. a stream whose head beat is offered and whose ready outputs are all 1
    ///     has that beat accepted in cycle c; if the output's valid and ready
    ///     are both 1, its data ports are recorded as a beat delivered in cycle c;
    ///  6. one clock cycle (rising, then falling edge).
    ///
    /// Hitting `maxCycles` is not an error: the result holds what was accepted
    /// and delivered (`complete == false`) and the caller reports the shortfall.
    /// Output beats beyond `expectBeats` are recorded too while input beats are
    /// left. Afterwards every valid port and the output ready are 0 (nothing is
    /// offered or taken until poked); data ports keep their last values.
    /// `Simulation.cycle` advances by `cycles`; `dumpWaveform` replays the run.
    ///
    /// - Parameters:
    ///   - inputs: input streams; their valid and data ports (and `hold`,
    ///     and the output ready) must all be distinct.
    ///   - output: the output stream, or nil (then `expectBeats` must be 0).
    public func stream(inputs: [StreamInput], output: StreamOutput?, expectBeats: Int, maxCycles: Int,
                       hold: [String: UInt64] = [:]) throws -> StreamResult {
        try checkOpen()
        func fail(_ message: String) -> CosimError { .usage("stream: \(message)") }
        guard clockIndex != nil else { throw fail("design `\(design.top)` has no clock input `\(design.clock)`") }
        guard maxCycles >= 0 else { throw fail("negative maxCycles \(maxCycles)") }
        guard expectBeats >= 0 else { throw fail("negative expectBeats \(expectBeats)") }
        guard output != nil || expectBeats == 0 else { throw fail("expectBeats is \(expectBeats) but there is no output stream") }
        guard inputs.count < Int(UInt16.max) else { throw fail("too many input streams") }

        var driven = [Int: String]()  // port -> role, to catch a port driven twice
        func drive(_ name: String, _ role: String) throws -> Int {
            let i = try inputPort(name)
            if let other = driven[i] { throw fail("port `\(name)` is both \(other) and \(role)") }
            driven[i] = role
            return i
        }
        func bit(_ i: Int, _ role: String) throws {
            let p = design.ports[i]
            guard p.width == 1 else { throw fail("\(role) port `\(p.name)` is \(p.width) bits wide; handshake ports must be 1 bit") }
        }
        func outputPort(_ name: String, _ role: String) throws -> Int {
            let i = try index(name)
            guard design.ports[i].direction == .output else { throw fail("\(role) port `\(name)` must be an output of `\(design.top)`") }
            return i
        }

        struct In { var valid: [Int]; var ready: [Int]; var data: [Int]; var row: WireRow; var count: Int }
        var ins = [In]()
        for (n, s) in inputs.enumerated() {
            let valid = try s.valid.map { name -> Int in let i = try drive(name, "valid of input stream \(n)"); try bit(i, "valid"); return i }
            let ready = try s.ready.map { name -> Int in let i = try outputPort(name, "ready"); try bit(i, "ready"); return i }
            let data = try s.data.map { try drive($0, "data of input stream \(n)") }
            guard !data.isEmpty else { throw fail("input stream \(n) has no data ports") }
            guard valid.count < Int(UInt16.max), ready.count < Int(UInt16.max), data.count < Int(UInt16.max) else {
                throw fail("input stream \(n) has too many ports")
            }
            let row = WireRow(widths: data.map { design.ports[$0].width })
            guard s.beats.count % row.rowWords == 0 else {
                throw fail("input stream \(n): \(s.beats.count) words is not a whole number of \(row.rowWords)-word beats (\(s.data.joined(separator: ", ")))")
            }
            ins.append(In(valid: valid, ready: ready, data: data, row: row, count: s.beats.count / row.rowWords))
        }
        var out: (valid: Int, ready: Int, data: [Int], row: WireRow)? = nil
        if let o = output {
            let v = try outputPort(o.valid, "output valid")
            try bit(v, "output valid")
            let r = try drive(o.ready, "output ready")
            try bit(r, "output ready")
            let d = try o.data.map { try outputPort($0, "output data") }
            guard d.count < Int(UInt16.max) else { throw fail("output stream has too many data ports") }
            switch o.readyPattern {
            case .always: break
            case .random(let p, _):
                guard p.isFinite, p >= 0, p <= 1 else { throw fail("ready probability \(p) is not in 0...1") }
            case .repeating(let pattern):
                guard !pattern.isEmpty, pattern.count <= Int(UInt32.max) else { throw fail("repeating ready pattern is empty") }
            }
            out = (v, r, d, WireRow(widths: d.map { design.ports[$0].width }))
        }
        let holds = try hold.map { (try drive($0.key, "held"), $0.value) }.sorted { $0.0 < $1.0 }

        // Held inputs: ordinary pokes, buffered ahead of the command.
        for (i, v) in holds { try sendPoke(i, [v]) }

        var header: [UInt8] = [Wire.stream]
        header.appendLE(UInt64(maxCycles))
        header.appendLE(UInt64(expectBeats))
        header.appendLE(UInt16(ins.count))
        for s in ins {
            header.appendLE(UInt16(s.valid.count)); for i in s.valid { header.appendLE(UInt16(i)) }
            header.appendLE(UInt16(s.ready.count)); for i in s.ready { header.appendLE(UInt16(i)) }
            header.appendLE(UInt16(s.data.count)); for i in s.data { header.appendLE(UInt16(i)) }
            header.appendLE(UInt64(s.count))
        }
        if let o = out, let spec = output {
            header.append(1)
            header.appendLE(UInt16(o.valid))
            header.appendLE(UInt16(o.ready))
            header.appendLE(UInt16(o.data.count)); for i in o.data { header.appendLE(UInt16(i)) }
            switch spec.readyPattern {
            case .always:
                header.append(0)
            case .random(let p, let seed):
                header.append(1)
                header.appendLE(ReadyPattern.threshold(p))
                header.appendLE(seed)
            case .repeating(let pattern):
                header.append(2)
                header.appendLE(UInt32(pattern.count))
                header.append(contentsOf: pattern.map { $0 ? 1 : 0 })
            }
        } else {
            header.append(0)
        }

        let total = header.count + ins.reduce(0) { $0 + $1.count * $1.row.rowBytes }
        let msg = [UInt8](unsafeUninitializedCapacity: total) { buf, count in
            let raw = UnsafeMutableRawBufferPointer(buf)
            header.withUnsafeBytes { raw.copyMemory(from: $0) }
            var o = header.count
            for (s, spec) in zip(ins, inputs) {
                spec.beats.withUnsafeBufferPointer { s.row.pack($0, rows: s.count, into: raw, at: o) }
                o += s.count * s.row.rowBytes
            }
            count = total
        }
        let start = cycle
        try sendBatch(msg)

        // Reply: counts first, then the variable part.
        let head = try exchange(replyBytes: 8 * (2 + ins.count))
        let counts = head.withUnsafeBytes { raw in
            (0..<(2 + ins.count)).map { Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
        }
        let cycles = counts[0]
        let accepted = Array(counts[1..<1 + ins.count])
        let delivered = counts[ins.count + 1]
        cycle += cycles
        let rowBytes = out?.row.rowBytes ?? 0
        let body = try exchange(replyBytes: 8 * (accepted.reduce(0, +) + delivered) + rowBytes * delivered)
        return body.withUnsafeBytes { raw in
            func ints(_ offset: Int, _ n: Int) -> [Int] {
                [Int](unsafeUninitializedCapacity: n) { buf, count in
                    for k in 0..<n {
                        buf[k] = Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * k, as: UInt64.self)))
                    }
                    count = n
                }
            }
            var o = 0
            var acceptCycles = [[Int]]()
            for a in accepted {
                acceptCycles.append(ints(o, a))
                o += 8 * a
            }
            let deliveryCycles = ints(o, delivered)
            o += 8 * delivered
            let beats = out.map { $0.row.unpack(raw, at: o, rows: delivered) } ?? []
            let complete = zip(accepted, ins).allSatisfy { $0 == $1.count } && delivered >= expectBeats
            return StreamResult(beats: beats, wordsPerBeat: out?.row.rowWords ?? 0, deliveryCycles: deliveryCycles,
                                acceptCycles: acceptCycles, cycles: cycles, startCycle: start, complete: complete)
        }
    }
}
