import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A running Verilator model driven from Swift.
///
/// Commands that need no answer (poke, eval, step) are buffered and sent with
/// the next one that does (peek, run, close), so a long poke/step sequence costs
/// no round trips. Values are masked to the port width; wide ports (> 64 bits)
/// travel as 64-bit words, least significant first.
///
/// Three ways to drive it: single commands (poke/eval/peek/step), bulk mode
/// (`run`: one row of inputs per cycle, one round trip) and stream mode
/// (`stream`, in Stream.swift: queues of beats through valid/ready handshakes,
/// following the design's backpressure, one round trip).
///
/// Every command is also recorded (in its compact wire form) so that
/// `dumpWaveform(to:)` can replay the session into a trace build.
public final class Simulation {
    public let design: CosimDesign
    public let model: BuiltModel
    /// The VCD this simulation writes (complete after `close()`), if any.
    public let waveform: URL?
    /// What the registers held before the first clock edge.
    public let initialState: InitialState
    /// Clock cycles stepped so far (by `step`, `run` and `stream`).
    public internal(set) var cycle: Int = 0

    private let portIndex: [String: Int]
    let clockIndex: Int?
    private var pid: pid_t = 0
    private var toDriver: Int32 = -1
    private var fromDriver: Int32 = -1
    private let stderrPath: String
    private var pending: [UInt8] = []
    private var recording: [UInt8] = []
    private let recordingEnabled: Bool
    private var failure: CosimError?
    private var isClosed = false

    /// Builds the design (cached) and starts its driver. With `waveform`, uses a
    /// trace build that writes a VCD there (complete after `close()`).
    /// `record: false` turns off the recording behind `dumpWaveform` (saves memory
    /// on very long runs). `initialState` sets every register and memory word before the first
    /// edge: random by default (`InitialState.default`), so designs are checked from any state.
    /// `verilatorFlags` are passed to `verilator` after the usual arguments.
    public init(_ design: CosimDesign, waveform: URL? = nil, optimize: Bool = true, record: Bool = true,
                initialState: InitialState = .default, verilatorFlags: [String] = []) throws {
        let options = BuildOptions(trace: waveform != nil, optimize: optimize, verilatorFlags: verilatorFlags)
        let model = try Verilator.build(design, options: options)
        self.design = design
        self.model = model
        self.waveform = waveform
        self.initialState = initialState
        self.recordingEnabled = record
        var idx = [String: Int]()
        for (i, p) in design.ports.enumerated() { idx[p.name] = i }
        self.portIndex = idx
        self.clockIndex = design.clockPort.flatMap { design.ports.firstIndex(of: $0) }
        self.stderrPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("cosim-\(getpid())-\(UUID().uuidString.prefix(12)).stderr").path

        var args = initialState.driverArguments
        if let w = waveform {
            try FileManager.default.createDirectory(at: w.deletingLastPathComponent(), withIntermediateDirectories: true)
            args += ["--vcd", w.path]
        }
        let (inR, inW) = try Subprocess.pipe()
        let (outR, outW) = try Subprocess.pipe()
        do {
            pid = try Subprocess.spawn(model.executable.path, args, stdin: .fd(inR), stdout: .fd(outW), stderr: .file(stderrPath))
        } catch {
            [inR, inW, outR, outW].forEach { Subprocess.closeFD($0) }
            throw error
        }
        Subprocess.closeFD(inR); Subprocess.closeFD(outW)
        toDriver = inW
        fromDriver = outR
        do {
            try handshake()
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    // MARK: - Ports

    /// Sets an input (two's complement, masked to the port width; wider ports
    /// are sign-extended). Takes effect at the next eval/peek/step.
    public func poke(_ port: String, _ value: Int128) throws {
        let p = try inputPort(port)
        let lo = UInt64(truncatingIfNeeded: value)
        let hi = UInt64(truncatingIfNeeded: value >> 64)
        let ext: UInt64 = value < 0 ? ~0 : 0
        let words = (0..<design.ports[p].words).map { $0 == 0 ? lo : $0 == 1 ? hi : ext }
        try sendPoke(p, words)
    }

    /// Sets an input of any width from 64-bit words, least significant first
    /// (missing words are zero, bits above the width are dropped).
    public func poke(_ port: String, words: [UInt64]) throws {
        try sendPoke(try inputPort(port), words)
    }

    /// Reads a port as 64-bit words, least significant first. Evaluates first if
    /// inputs were poked since the last evaluation.
    public func peek(_ port: String) throws -> [UInt64] {
        let p = try index(port)
        try checkOpen()
        emit { $0.append(Wire.peek); $0.appendLE(UInt16(p)) }
        let width = design.ports[p].width
        let reply = try exchange(replyBytes: Wire.bytes(width))
        return reply.withUnsafeBytes { Self.decodeWords($0, offset: 0, width: width) }
    }

    /// Reads a port of up to 127 bits as an unsigned number.
    public func peekUnsigned(_ port: String) throws -> Int128 {
        let p = try index(port)
        guard design.ports[p].width <= 127 else {
            throw CosimError.usage("peekUnsigned: port `\(port)` is \(design.ports[p].width) bits wide; use peek(_:) for ports over 127 bits")
        }
        let w = try peek(port)
        return Int128(w[0]) | (w.count > 1 ? Int128(w[1]) << 64 : 0)
    }

    /// Reads a port of up to 128 bits as a two's complement signed number.
    public func peekSigned(_ port: String) throws -> Int128 {
        let p = try index(port)
        let width = design.ports[p].width
        guard width <= 128 else {
            throw CosimError.usage("peekSigned: port `\(port)` is \(width) bits wide; use peek(_:) for ports over 128 bits")
        }
        let w = try peek(port)
        var v = UInt128(w[0]) | (w.count > 1 ? UInt128(w[1]) << 64 : 0)
        if width < 128, (v >> (width - 1)) & 1 == 1 { v |= ~UInt128(0) << width }
        return Int128(bitPattern: v)
    }

    // MARK: - Time

    /// Settles combinational logic after pokes.
    public func eval() throws {
        try checkOpen()
        emit { $0.append(Wire.eval) }
    }

    /// Full clock cycles: rising then falling edge of the clock.
    public func step(_ cycles: Int = 1) throws {
        try checkOpen()
        guard cycles >= 0 else { throw CosimError.usage("step: negative cycle count \(cycles)") }
        guard clockIndex != nil else {
            throw CosimError.usage("step: design `\(design.top)` has no clock input `\(design.clock)`")
        }
        guard cycles > 0 else { return }
        emit { $0.append(Wire.step); $0.appendLE(UInt64(cycles)) }
        cycle += cycles
    }

    /// Waits until the driver has executed everything sent so far; returns its cycle count.
    @discardableResult
    public func sync() throws -> Int {
        try checkOpen()
        emit(record: false) { $0.append(Wire.sync) }
        let reply = try exchange(replyBytes: 8)
        return Int(reply.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    }

    // MARK: - Bulk

    /// Bulk mode, one round trip: for each of `cycles` cycles, apply one row of
    /// input values (the given ports; all others hold), evaluate, sample the
    /// given outputs (before the edge), then clock one cycle.
    ///
    /// `values` is row-major: each row has, for each input port in order, its
    /// words (one word for ports up to 64 bits). The result is row-major the same
    /// way for `outputs`. Negative numbers may be passed as `UInt64(bitPattern:)`;
    /// values are masked to the port width.
    public func run(cycles: Int, inputs: [String], values: [UInt64], outputs: [String]) throws -> [UInt64] {
        try checkOpen()
        guard cycles >= 0 else { throw CosimError.usage("run: negative cycle count \(cycles)") }
        guard clockIndex != nil else {
            throw CosimError.usage("run: design `\(design.top)` has no clock input `\(design.clock)`")
        }
        let ins = try inputs.map { try inputPort($0) }
        let outs = try outputs.map { try index($0) }
        let inWords = ins.reduce(0) { $0 + design.ports[$1].words }
        let outWords = outs.reduce(0) { $0 + design.ports[$1].words }
        guard values.count == cycles * inWords else {
            throw CosimError.usage("run: expected \(cycles) rows of \(inWords) words (\(cycles * inWords) values), got \(values.count)")
        }
        guard cycles > 0 else { return [] }

        let inRow = WireRow(widths: ins.map { design.ports[$0].width })
        let outRow = WireRow(widths: outs.map { design.ports[$0].width })

        var header: [UInt8] = [Wire.bulk]
        header.appendLE(UInt16(ins.count))
        for i in ins { header.appendLE(UInt16(i)) }
        header.appendLE(UInt16(outs.count))
        for o in outs { header.appendLE(UInt16(o)) }
        header.appendLE(UInt64(cycles))

        let total = header.count + inRow.rowBytes * cycles
        let msg = [UInt8](unsafeUninitializedCapacity: total) { buf, count in
            let raw = UnsafeMutableRawBufferPointer(buf)
            header.withUnsafeBytes { raw.copyMemory(from: $0) }
            values.withUnsafeBufferPointer { inRow.pack($0, rows: cycles, into: raw, at: header.count) }
            count = total
        }
        try sendBatch(msg)
        cycle += cycles
        let reply = try exchange(replyBytes: outRow.rowBytes * cycles)
        guard outWords > 0 else { return [] }
        return reply.withUnsafeBytes { outRow.unpack($0, at: 0, rows: cycles) }
    }

    /// Bulk mode with one array per cycle: `values[c]` is the row of input
    /// words for cycle c; returns one row of output words per cycle.
    public func run(inputs: [String], values: [[UInt64]], outputs: [String]) throws -> [[UInt64]] {
        let flat = Array(values.joined())
        let inWords = try inputs.reduce(0) { $0 + design.ports[try index($1)].words }
        if let bad = values.firstIndex(where: { $0.count != inWords }) {
            throw CosimError.usage("run: row \(bad) has \(values[bad].count) values, expected \(inWords)")
        }
        let out = try run(cycles: values.count, inputs: inputs, values: flat, outputs: outputs)
        let outWords = try outputs.reduce(0) { $0 + design.ports[try index($1)].words }
        guard outWords > 0 else { return Array(repeating: [], count: values.count) }
        return stride(from: 0, to: out.count, by: outWords).map { Array(out[$0..<$0 + outWords]) }
    }

    // MARK: - Waveforms

    /// Replays everything this simulation did so far into a trace build of the
    /// design and writes a VCD to `url`; returns `url`.
    @discardableResult
    public func dumpWaveform(to url: URL) throws -> URL {
        guard recordingEnabled else {
            throw CosimError.usage("dumpWaveform: this simulation was created with record: false")
        }
        var options = model.options
        options.trace = true
        let traced = try Verilator.build(design, options: options)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let errPath = stderrPath + ".replay"
        defer { unlink(errPath) }
        let (inR, inW) = try Subprocess.pipe()
        let child: pid_t
        do {
            child = try Subprocess.spawn(traced.executable.path, initialState.driverArguments + ["--vcd", url.path, "--quiet"],
                                         stdin: .fd(inR), stdout: .null, stderr: .file(errPath))
        } catch {
            Subprocess.closeFD(inR); Subprocess.closeFD(inW)
            throw error
        }
        Subprocess.closeFD(inR)
        var script = recording
        script.append(Wire.quit)
        _ = script.withUnsafeBytes { Subprocess.writeAll(inW, $0) }
        Subprocess.closeFD(inW)
        let status = Subprocess.wait(child)
        guard status == 0 else {
            throw CosimError.driverDied(top: design.top, status: status, stderr: Self.tail(errPath))
        }
        return url
    }

    // MARK: - Lifetime

    /// Stops the driver (finishing the waveform, if any). Safe to call twice.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if pid > 0 {
            if failure == nil {
                pending.append(Wire.quit)
                let ok = pending.withUnsafeBytes { Subprocess.writeAll(toDriver, $0) }
                pending.removeAll()
                if ok {
                    var ack: UInt8 = 0
                    _ = withUnsafeMutableBytes(of: &ack) { Subprocess.readAll(fromDriver, $0) }
                }
            }
            if toDriver >= 0 { Subprocess.closeFD(toDriver); toDriver = -1 }
            if fromDriver >= 0 { Subprocess.closeFD(fromDriver); fromDriver = -1 }
            if failure == nil { Subprocess.wait(pid) }
            pid = 0
        }
        unlink(stderrPath)
    }

    /// Process id of the driver (for diagnostics and tests).
    public var driverProcessID: Int32 { pid }

    /// Bytes of stimulus recorded for `dumpWaveform`.
    public var recordedBytes: Int { recording.count }

    // MARK: - Internals

    func index(_ port: String) throws -> Int {
        guard let i = portIndex[port] else {
            throw CosimError.unknownPort(port, top: design.top, known: design.ports.map(\.name))
        }
        return i
    }

    func inputPort(_ port: String) throws -> Int {
        let i = try index(port)
        guard design.ports[i].direction == .input else {
            throw CosimError.usage("port `\(port)` of `\(design.top)` is an output and cannot be poked")
        }
        guard i != clockIndex else {
            throw CosimError.usage("port `\(port)` is the clock of `\(design.top)`: it is driven by step/run")
        }
        return i
    }

    func checkOpen() throws {
        if let f = failure { throw f }
        if isClosed { throw CosimError.closed(top: design.top) }
    }

    func sendPoke(_ p: Int, _ words: [UInt64]) throws {
        try checkOpen()
        let port = design.ports[p]
        let n = Wire.bytes(port.width)
        emit { buf in
            buf.append(Wire.poke)
            buf.appendLE(UInt16(p))
            if n <= 8 {
                withUnsafeBytes(of: (words.first ?? 0).littleEndian) { buf.append(contentsOf: $0.prefix(n)) }
            } else {
                for k in 0..<port.words { buf.appendLE(k < words.count ? words[k] : 0) }
            }
        }
        if pending.count >= 1 << 20 { try flush() }
    }

    /// Appends one command to the send buffer (and to the recording).
    @inline(__always)
    func emit(record: Bool = true, _ body: (inout [UInt8]) -> Void) {
        let start = pending.count
        body(&pending)
        if record && recordingEnabled { recording.append(contentsOf: pending[start...]) }
    }

    func flush() throws {
        try checkOpen()
        guard !pending.isEmpty else { return }
        let ok = pending.withUnsafeBytes { Subprocess.writeAll(toDriver, $0) }
        pending.removeAll(keepingCapacity: pending.count <= 1 << 20)
        if !ok { throw died() }
    }

    /// Sends a large command straight to the pipe (not through the send
    /// buffer), after everything pending, and records it.
    func sendBatch(_ msg: [UInt8]) throws {
        try flush()
        if recordingEnabled { recording.append(contentsOf: msg) }
        if !msg.withUnsafeBytes({ Subprocess.writeAll(toDriver, $0) }) { throw died() }
    }

    /// Sends everything pending, then reads a reply of exactly `replyBytes`.
    func exchange(replyBytes: Int) throws -> [UInt8] {
        try flush()
        var ok = true
        let reply = [UInt8](unsafeUninitializedCapacity: replyBytes) { buf, count in
            ok = Subprocess.readAll(fromDriver, UnsafeMutableRawBufferPointer(buf))
            count = replyBytes
        }
        if !ok { throw died() }
        return reply
    }

    private func handshake() throws {
        let head = try exchange(replyBytes: 12)
        guard Array(head[0..<4]) == Wire.magic else {
            throw CosimError.toolFailed(command: model.executable.path, status: -1, output: "not a cosim driver (bad handshake)")
        }
        let (version, count) = head.withUnsafeBytes {
            (UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
             UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        }
        guard version == Wire.version, Int(count) == design.ports.count else {
            throw CosimError.toolFailed(command: model.executable.path, status: -1,
                                        output: "driver protocol \(version) with \(count) ports; expected \(Wire.version) with \(design.ports.count)")
        }
        for p in design.ports {
            let fixed = try exchange(replyBytes: 7)
            let (width, output, len) = fixed.withUnsafeBytes {
                (UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self)), $0[4],
                 UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: 5, as: UInt16.self)))
            }
            let name = String(decoding: try exchange(replyBytes: Int(len)), as: UTF8.self)
            guard name == p.name, Int(width) == p.width, (output == 1) == (p.direction == .output) else {
                throw CosimError.toolFailed(command: model.executable.path, status: -1,
                                            output: "driver port \(name)[\(width)] does not match \(p.name)[\(p.width)]")
            }
        }
    }

    /// Marks the simulation dead and describes why.
    private func died() -> CosimError {
        if let f = failure { return f }
        if toDriver >= 0 { Subprocess.closeFD(toDriver); toDriver = -1 }
        // The driver closed its end: it is exiting (or gone). Collect its status.
        var status: Int32? = nil
        for _ in 0..<200 {
            if let s = Subprocess.poll(pid) { status = s; break }
            usleep(10_000)
        }
        if status == nil { kill(pid, SIGKILL); status = Subprocess.wait(pid) }
        let error = CosimError.driverDied(top: design.top, status: status, stderr: Self.tail(stderrPath))
        failure = error
        return error
    }

    static func tail(_ path: String, bytes: Int = 4096) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data.suffix(bytes), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func decodeWords(_ raw: UnsafeRawBufferPointer, offset: Int, width: Int) -> [UInt64] {
        switch Wire.bytes(width) {
        case 1: return [UInt64(raw[offset])]
        case 2: return [UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))]
        case 4: return [UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))]
        default:
            return (0..<(width + 63) / 64).map {
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * $0, as: UInt64.self))
            }
        }
    }
}
