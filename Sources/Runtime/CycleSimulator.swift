import Cosim
import Foundation
import HDL

/// One interface to a running design, whichever simulator runs it: the Verilator build driven
/// by Cosim (`Simulation`) or the in-process `CircuitSimulator`. Harnesses and engines hold an
/// `any CycleSimulator`, so a small configuration runs in process (fast tests, no build) and
/// a large one in Verilator, through the same code. Ports are addressed by the core's
/// interface (`sim[io.shift] = 3`, `try sim.peek(io.c.valid)`), or by name for bulk runs.
public protocol CycleSimulator: AnyObject {
    /// Clock cycles stepped so far.
    var cycle: Int { get }
    func poke(_ port: String, _ value: Int128) throws
    func poke(_ port: String, words: [UInt64]) throws
    func peek(_ port: String) throws -> [UInt64]
    func peekUnsigned(_ port: String) throws -> Int128
    func peekSigned(_ port: String) throws -> Int128
    func step(_ cycles: Int) throws
    /// Bulk mode: per cycle, apply a row of input words, sample `outputs` before the edge, step.
    func run(cycles: Int, inputs: [String], values: [UInt64], outputs: [String]) throws -> [UInt64]
    /// Bulk mode with one row of input words per cycle; one row of output words per cycle.
    func run(inputs: [String], values: [[UInt64]], outputs: [String]) throws -> [[UInt64]]
    /// Stream mode, with the semantics documented on Cosim's `Simulation.stream`.
    func stream(inputs: [StreamInput], output: StreamOutput?, expectBeats: Int, maxCycles: Int,
                hold: [String: UInt64]) throws -> StreamResult
    /// A VCD of everything simulated so far (the in-process simulator records none: it throws).
    func dumpWaveform(to url: URL) throws -> URL
    /// Ends the simulation (stops Verilator's driver); safe to call twice.
    func close()
}

extension CycleSimulator {
    /// Sets an input of the design's interface.
    public func poke(_ port: HDL.Port, _ value: Int128) throws { try poke(port.name, value) }

    /// Reads a port of the interface, signed or not as its shape says (up to 128 bits).
    public func peek(_ port: HDL.Port) throws -> Int128 {
        port.shape.isSigned ? try peekSigned(port.name) : try peekUnsigned(port.name)
    }

    /// `sim[io.x] = v` and `sim[io.y]`: a port of the interface as a value. A failure of the
    /// simulator (a driver that died, a port the design does not have) stops the program;
    /// use `poke(_:_:)` and `peek(_:)` where it should be caught.
    public subscript(_ port: HDL.Port) -> Int128 {
        get {
            do { return try peek(port) } catch { fatalError("peek \(port.name): \(error)") }
        }
        set {
            do { try poke(port, newValue) } catch { fatalError("poke \(port.name): \(error)") }
        }
    }

    public func stream(inputs: [StreamInput], output: StreamOutput?, expectBeats: Int, maxCycles: Int) throws -> StreamResult {
        try stream(inputs: inputs, output: output, expectBeats: expectBeats, maxCycles: maxCycles, hold: [:])
    }
}

extension Simulation: CycleSimulator {}

/// Which simulator runs a design.
public enum SimulatorBackend: String, Sendable, CaseIterable {
    /// Verilator, built and cached by Cosim: fast for large designs, records waveforms.
    case verilator
    /// The in-process `CircuitSimulator`: nothing to build, for small designs and fast tests.
    case inProcess = "in-process"

    /// Starts `top` from `initialState` (random by default, as real silicon may start).
    public func start(_ top: ModuleDefinition, record: Bool = true, initialState: InitialState = .default) throws -> any CycleSimulator {
        switch self {
        case .verilator:
            return try Simulation(try cosimDesign(top), record: record, initialState: initialState)
        case .inProcess:
            let sim = CircuitSimulator(top)
            if case .random(let seed) = initialState {
                var g = SplitMix64(seed: UInt64(seed))
                sim.randomizeState(using: &g)
            }
            return sim
        }
    }
}

struct InProcessError: Error, CustomStringConvertible {
    let description: String
}

extension CircuitSimulator: CycleSimulator {
    public func dumpWaveform(to url: URL) throws -> URL {
        throw InProcessError(description: "the in-process simulator records no waveform; run the design with the Verilator backend for one")
    }

    public func close() {}

    public func run(inputs: [String], values: [[UInt64]], outputs: [String]) throws -> [[UInt64]] {
        let flat = try run(cycles: values.count, inputs: inputs, values: Array(values.joined()), outputs: outputs)
        let outWords = outputs.reduce(0) { total, name in total + ((top.ports.first { $0.name == name }?.shape.width ?? 0) + 63) / 64 }
        guard outWords > 0 else { return Array(repeating: [], count: values.count) }
        return stride(from: 0, to: flat.count, by: outWords).map { Array(flat[$0..<$0 + outWords]) }
    }

    /// `Simulation.stream`'s cycle loop, in process (same order of events, same ready pattern).
    public func stream(inputs: [StreamInput], output: StreamOutput?, expectBeats: Int, maxCycles: Int,
                       hold: [String: UInt64]) throws -> StreamResult {
        func fail(_ message: String) -> InProcessError { InProcessError(description: "stream: \(message)") }
        guard top.usesClock else { throw fail("module '\(top.name)' has no clock") }
        guard maxCycles >= 0, expectBeats >= 0 else { throw fail("negative maxCycles or expectBeats") }
        guard output != nil || expectBeats == 0 else { throw fail("expectBeats is \(expectBeats) but there is no output stream") }
        let widths = Dictionary(top.ports.map { ($0.name, $0.shape.width) }, uniquingKeysWith: { a, _ in a })
        func words(_ port: String) throws -> Int {
            guard let w = widths[port] else { throw fail("module '\(top.name)' has no port '\(port)'") }
            return (w + 63) / 64
        }
        for (port, value) in hold { try poke(port, words: [value]) }
        let beatWords = try inputs.map { try $0.data.reduce(0) { $0 + (try words($1)) } }
        for (n, s) in inputs.enumerated() where beatWords[n] == 0 || s.beats.count % beatWords[n] != 0 {
            throw fail("input stream \(n): \(s.beats.count) words is not a whole number of \(beatWords[n])-word beats")
        }
        let counts = zip(inputs, beatWords).map { $0.beats.count / $1 }
        var next = [Int](repeating: 0, count: inputs.count)
        var acceptCycles = [[Int]](repeating: [], count: inputs.count)
        var delivered: [UInt64] = [], deliveryCycles: [Int] = []
        let outWords = try output.map { try $0.data.reduce(0) { $0 + (try words($1)) } } ?? 0
        var readyGenerator: SplitMix64?
        var threshold: UInt64 = 0
        if case .random(let p, let seed)? = output?.readyPattern {
            readyGenerator = SplitMix64(seed: seed)
            threshold = ReadyPattern.threshold(p)
        }
        let start = cycle
        var c = 0
        while c < maxCycles {
            if next == counts && deliveryCycles.count >= expectBeats { break }
            for (n, s) in inputs.enumerated() {
                let offered = next[n] < counts[n]
                for v in s.valid { try poke(v, offered ? 1 : 0) }
                guard offered else { continue }
                var at = next[n] * beatWords[n]
                for port in s.data {
                    let k = try words(port)
                    try poke(port, words: Array(s.beats[at..<at + k]))
                    at += k
                }
            }
            var outReady = false
            if let o = output {
                switch o.readyPattern {
                case .always: outReady = true
                case .random: outReady = (readyGenerator!.next() >> 32) < threshold
                case .repeating(let pattern): outReady = pattern[c % pattern.count]
                }
                try poke(o.ready, outReady ? 1 : 0)
            }
            eval()
            var taken: [Int] = []
            for (n, s) in inputs.enumerated() where next[n] < counts[n] {
                if try s.ready.allSatisfy({ try peekUnsigned($0) == 1 }) { taken.append(n) }
            }
            if let o = output, outReady, try peekUnsigned(o.valid) == 1 {
                for port in o.data { delivered += try peek(port) }
                deliveryCycles.append(c)
            }
            for n in taken {
                acceptCycles[n].append(c)
                next[n] += 1
            }
            try step(1)
            c += 1
        }
        for s in inputs { for v in s.valid { try poke(v, 0) } }
        if let o = output { try poke(o.ready, 0) }
        return StreamResult(beats: delivered, wordsPerBeat: outWords, deliveryCycles: deliveryCycles, acceptCycles: acceptCycles,
                            cycles: c, startCycle: start, complete: next == counts && deliveryCycles.count >= expectBeats)
    }
}
