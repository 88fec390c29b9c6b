@testable import Cosim
import Foundation
import Runtime
import Testing
import TestTags

// Stream mode (valid/ready handshakes inside the driver). These tests need
// Verilator. They never skip: without it they fail with
// "`verilator` was not found on PATH: run `make deps` ...".

enum StreamDesigns {
    /// A 2-deep FIFO with valid/ready on both sides. in_ready = not full,
    /// out_valid = not empty; neither depends combinationally on the other side.
    static let fifo2 = CosimDesign(
        top: "fifo2",
        sources: ["fifo2.v": """
            module fifo2 (
                input  wire        clk,
                input  wire        rst,
                input  wire        in_valid,
                output wire        in_ready,
                input  wire [31:0] in_data,
                output wire        out_valid,
                input  wire        out_ready,
                output wire [31:0] out_data
            );
                reg [31:0] mem [0:1];
                reg        wp, rp;
                reg [1:0]  count;
                wire push = in_valid && in_ready;
                wire pop  = out_valid && out_ready;
                assign in_ready  = count != 2'd2;
                assign out_valid = count != 2'd0;
                assign out_data  = mem[rp];
                always @(posedge clk) begin
                    if (rst) begin
                        wp <= 1'b0; rp <= 1'b0; count <= 2'd0;
                    end else begin
                        if (push) begin mem[wp] <= in_data; wp <= ~wp; end
                        if (pop) rp <= ~rp;
                        count <= count + {1'b0, push} - {1'b0, pop};
                    end
                end
            endmodule

            """],
        ports: [
            .input("clk"), .input("rst"), .input("in_valid"), .output("in_ready"), .input("in_data", 32),
            .output("out_valid"), .input("out_ready"), .output("out_data", 32),
        ])

    /// Two input streams consumed jointly (as the systolic array's A and B:
    /// `a_ready = b_valid & accept`, `b_ready = a_valid & accept`) into a
    /// pipeline register whose `accept = !c_valid | c_ready` passes the output's
    /// backpressure straight through. Wide ports: b_data is 100 bits in, c_data
    /// 117 bits out: {a_last, a_data, b_data + a_data}.
    static let join2 = CosimDesign(
        top: "join2",
        sources: ["join2.v": """
            module join2 (
                input  wire         clk,
                input  wire         a_valid,
                output wire         a_ready,
                input  wire [15:0]  a_data,
                input  wire         a_last,
                input  wire         b_valid,
                output wire         b_ready,
                input  wire [99:0]  b_data,
                output reg          c_valid,
                input  wire         c_ready,
                output reg  [116:0] c_data
            );
                wire accept = !c_valid || c_ready;
                assign a_ready = b_valid && accept;
                assign b_ready = a_valid && accept;
                always @(posedge clk) begin
                    if (a_valid && b_valid && accept) begin
                        c_valid <= 1'b1;
                        c_data  <= {a_last, a_data, b_data + {84'd0, a_data}};
                    end else if (c_ready) begin
                        c_valid <= 1'b0;
                    end
                end
            endmodule

            """],
        ports: [
            .input("clk"), .input("a_valid"), .output("a_ready"), .input("a_data", 16), .input("a_last"),
            .input("b_valid"), .output("b_ready"), .input("b_data", 100),
            .output("c_valid"), .input("c_ready"), .output("c_data", 117),
        ])

    /// Cycle-exact model of fifo2 under a stream run: (accept cycles, delivery cycles, cycles).
    static func fifoTiming(beats n: Int, ready: [Bool], depth: Int = 2, expect: Int) -> ([Int], [Int], Int) {
        var count = 0, head = 0, delivered = 0, c = 0
        var acc = [Int](), del = [Int]()
        while c < ready.count {
            if head == n && delivered >= expect { break }
            let inReady = count < depth
            let outValid = count > 0
            let push = head < n && inReady
            let pop = outValid && ready[c]
            if push { acc.append(c); head += 1 }
            if pop { del.append(c); delivered += 1 }
            count += (push ? 1 : 0) - (pop ? 1 : 0)
            c += 1
        }
        return (acc, del, c)
    }

    /// Cycle-exact model of join2: (joint accept cycles, delivery cycles, cycles).
    static func joinTiming(a: Int, b: Int, ready: [Bool], expect: Int) -> ([Int], [Int], Int) {
        var cv = false, ha = 0, hb = 0, delivered = 0, c = 0
        var acc = [Int](), del = [Int]()
        while c < ready.count {
            if ha == a && hb == b && delivered >= expect { break }
            let accept = !cv || ready[c]
            let joint = ha < a && hb < b && accept
            let deliver = cv && ready[c]
            if joint { acc.append(c); ha += 1; hb += 1 }
            if deliver { del.append(c); delivered += 1 }
            cv = joint || (cv && !ready[c])
            c += 1
        }
        return (acc, del, c)
    }
}

@Suite(.tags(.verilator)) struct StreamTests {
    func fifoIn(_ beats: [UInt64]) -> StreamInput {
        StreamInput(valid: "in_valid", ready: "in_ready", data: ["in_data"], beats: beats)
    }

    func fifoOut(_ pattern: ReadyPattern) -> StreamOutput {
        StreamOutput(valid: "out_valid", ready: "out_ready", data: ["out_data"], readyPattern: pattern)
    }

    func reset(_ sim: Simulation) throws {
        try sim.poke("rst", 1)
        try sim.step()
    }

    @Test(arguments: [0.3, 1.0])
    func fifoPassesEveryBeatOnceInOrder(probability: Double) throws {
        let sim = try Simulation(StreamDesigns.fifo2, record: false, initialState: .zero)
        defer { sim.close() }
        try reset(sim)
        let n = 100_000
        var rng = SplitMix64(seed: 5)
        let beats = (0..<n).map { _ in rng.next() & 0xFFFF_FFFF }
        let pattern = ReadyPattern.random(probability: probability, seed: 1234)
        let maxCycles = 20 * n
        let r = try sim.stream(inputs: [fifoIn(beats)], output: fifoOut(pattern), expectBeats: n,
                               maxCycles: maxCycles, hold: ["rst": 0])
        #expect(r.complete)
        #expect(r.startCycle == 1)
        #expect(sim.cycle == 1 + r.cycles)
        #expect(r.wordsPerBeat == 1)
        #expect(r.deliveredBeats == n)
        let firstBad = zip(r.beats, beats).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(r.beats.count == n && firstBad == nil, "first wrong beat: \(firstBad ?? -1)")

        // Consistent with the handshake: strictly increasing cycles, a beat
        // leaves after it entered, deliveries only in cycles where ready was high,
        // and the whole schedule is exactly that of a 2-deep FIFO.
        let ready = pattern.values(cycles: r.cycles)
        #expect(r.acceptCycles.count == 1)
        let acc = r.acceptCycles[0]
        #expect(zip(acc, acc.dropFirst()).allSatisfy { $0 < $1 })
        #expect(zip(r.deliveryCycles, r.deliveryCycles.dropFirst()).allSatisfy { $0 < $1 })
        #expect(zip(acc, r.deliveryCycles).allSatisfy { $0 < $1 })
        #expect(r.deliveryCycles.allSatisfy { ready[$0] })
        let (mAcc, mDel, mCycles) = StreamDesigns.fifoTiming(beats: n, ready: pattern.values(cycles: maxCycles), expect: n)
        #expect(acc == mAcc)
        #expect(r.deliveryCycles == mDel)
        #expect(r.cycles == mCycles)
        #expect(r.firstAcceptCycle == 0)
        #expect(r.lastDeliveryCycle == r.cycles - 1)
        if probability == 0.3 {
            // Roughly 30% of the cycles deliver.
            let rate = Double(n) / Double(r.cycles)
            #expect(rate > 0.28 && rate < 0.32, "delivery rate \(rate)")
        } else {
            #expect(r.cycles == n + 1)
        }
    }

    @Test func alwaysReadyThroughputIsOneBeatPerCycle() throws {
        let sim = try Simulation(StreamDesigns.fifo2, initialState: .zero)
        defer { sim.close() }
        try reset(sim)
        let n = 1000
        let beats = (0..<UInt64(n)).map { $0 &* 0x9E37_79B9 & 0xFFFF_FFFF }
        let r = try sim.stream(inputs: [fifoIn(beats)], output: fifoOut(.always), expectBeats: n, maxCycles: 10 * n,
                               hold: ["rst": 0])
        #expect(r.complete)
        #expect(r.beats == beats)
        // One beat accepted every cycle from cycle 0, each delivered one cycle later.
        #expect(r.acceptCycles == [Array(0..<n)])
        #expect(r.deliveryCycles == Array(1...n))
        #expect(r.cycles == n + 1)
        // Afterwards nothing is offered or taken: the FIFO stays empty and idle.
        try sim.step(3)
        #expect(try sim.peekUnsigned("out_valid") == 0)
        #expect(try sim.peekUnsigned("in_valid") == 0)
        #expect(try sim.peekUnsigned("out_ready") == 0)
        // Data ports keep the last beat.
        #expect(try sim.peek("in_data") == [beats.last!])
    }

    @Test func backpressureWithARepeatingPattern() throws {
        // Ready every third cycle: the FIFO fills and then passes one beat per 3 cycles.
        let sim = try Simulation(StreamDesigns.fifo2, record: false, initialState: .zero)
        defer { sim.close() }
        try reset(sim)
        let n = 300
        let beats = (0..<UInt64(n)).map { $0 + 7 }
        let pattern = ReadyPattern.repeating([false, false, true])
        let r = try sim.stream(inputs: [fifoIn(beats)], output: fifoOut(pattern), expectBeats: n, maxCycles: 10 * n,
                               hold: ["rst": 0])
        #expect(r.beats == beats)
        #expect(r.deliveryCycles == (0..<n).map { 3 * $0 + 2 })
        #expect(r.acceptCycles[0].prefix(3) == [0, 1, 3])  // full after two beats; room again after each pop
        let (mAcc, mDel, _) = StreamDesigns.fifoTiming(beats: n, ready: pattern.values(cycles: 10 * n), expect: n)
        #expect(r.acceptCycles == [mAcc])
        #expect(r.deliveryCycles == mDel)
    }

    @Test func twoInputStreamsConsumedJointlyWithWidePorts() throws {
        let sim = try Simulation(StreamDesigns.join2, record: false, initialState: .zero)
        defer { sim.close() }
        let n = 50_000
        var rng = SplitMix64(seed: 11)
        let m100 = UInt128.mask(100)
        var aBeats = [UInt64](), bBeats = [UInt64](), expected = [UInt64]()
        for k in 0..<n {
            let a = rng.next() & 0xFFFF
            let last: UInt64 = k % 7 == 6 ? 1 : 0
            // Beats carry garbage above the port widths: the driver masks it.
            let bw = [rng.next(), rng.next()]
            let b = UInt128(words: bw) & m100
            aBeats += [a | 0xABCD_0000, last]
            bBeats += bw
            let c = (UInt128(last) << 116) | (UInt128(a) << 100) | ((b + UInt128(a)) & m100)
            expected += c.words
        }
        let a = StreamInput(valid: "a_valid", ready: "a_ready", data: ["a_data", "a_last"], beats: aBeats)
        let b = StreamInput(valid: ["b_valid"], ready: ["b_ready"], data: ["b_data"], beats: bBeats)
        let pattern = ReadyPattern.random(probability: 0.5, seed: 99)
        let out = StreamOutput(valid: "c_valid", ready: "c_ready", data: ["c_data"], readyPattern: pattern)
        let r = try sim.stream(inputs: [a, b], output: out, expectBeats: n, maxCycles: 10 * n)
        #expect(r.complete)
        #expect(r.wordsPerBeat == 2)
        #expect(r.deliveredBeats == n)
        #expect(r.beats == expected)
        #expect(r.beat(n - 1) == expected[(2 * n - 2)...])
        // Joint consumption: both beats of a pair in the same cycle.
        #expect(r.acceptCycles.count == 2)
        #expect(r.acceptCycles[0] == r.acceptCycles[1])
        let (mAcc, mDel, mCycles) = StreamDesigns.joinTiming(a: n, b: n, ready: pattern.values(cycles: 10 * n), expect: n)
        #expect(r.acceptCycles[0] == mAcc)
        #expect(r.deliveryCycles == mDel)
        #expect(r.cycles == mCycles)
    }

    @Test func stopsAtMaxCycles() throws {
        let sim = try Simulation(StreamDesigns.fifo2, initialState: .zero)
        defer { sim.close() }
        try reset(sim)
        // Never ready: the FIFO takes two beats, then stalls until maxCycles.
        let r = try sim.stream(inputs: [fifoIn([1, 2, 3, 4, 5])], output: fifoOut(.repeating([false])),
                               expectBeats: 5, maxCycles: 50, hold: ["rst": 0])
        #expect(!r.complete)
        #expect(r.cycles == 50)
        #expect(sim.cycle == 51)
        #expect(r.acceptCycles == [[0, 1]])
        #expect(r.deliveredBeats == 0 && r.beats.isEmpty)
        #expect(r.lastDeliveryCycle == nil)
        // The run continues where it stopped: the two buffered beats come out first.
        let rest = try sim.stream(inputs: [fifoIn([3, 4, 5])], output: fifoOut(.always), expectBeats: 5, maxCycles: 50)
        #expect(rest.complete)
        #expect(rest.startCycle == 51)
        #expect(rest.beats == [1, 2, 3, 4, 5])
        #expect(rest.deliveryCycles == [0, 1, 2, 3, 4])
        #expect(rest.acceptCycles == [[1, 2, 3]])

        // Unequal queues into a joint consumer: only the pairs get in.
        let j = try Simulation(StreamDesigns.join2, record: false, initialState: .zero)
        defer { j.close() }
        // 10 A beats (2 words each: a_data, a_last), 5 B beats (b_data: 2 words).
        let a = StreamInput(valid: "a_valid", ready: "a_ready", data: ["a_data", "a_last"], beats: Array(repeating: 1, count: 20))
        let b = StreamInput(valid: "b_valid", ready: "b_ready", data: ["b_data"], beats: Array(repeating: 2, count: 10))
        let out = StreamOutput(valid: "c_valid", ready: "c_ready", data: ["c_data"])
        let jr = try j.stream(inputs: [a, b], output: out, expectBeats: 10, maxCycles: 100)
        #expect(!jr.complete)
        #expect(jr.cycles == 100)
        #expect(jr.acceptedBeats == [5, 5])
        #expect(jr.deliveredBeats == 5)
        #expect(jr.deliveryCycles == [1, 2, 3, 4, 5])

        // maxCycles 0 and nothing to do are fine.
        let none = try sim.stream(inputs: [], output: fifoOut(.always), expectBeats: 0, maxCycles: 0)
        #expect(none.cycles == 0 && none.complete)
        let idle = try sim.stream(inputs: [fifoIn([])], output: nil, expectBeats: 0, maxCycles: 10)
        #expect(idle.cycles == 0 && idle.complete && idle.acceptedBeats == [0])
    }

    @Test func dumpWaveformReplaysAStreamRun() throws {
        let dir = temporaryFile("x").deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let beats = (0..<UInt64(200)).map { $0 * 0x0101_0101 & 0xFFFF_FFFF }
        let pattern = ReadyPattern.random(probability: 0.4, seed: 3)
        func session(_ sim: Simulation) throws -> StreamResult {
            try reset(sim)
            let r = try sim.stream(inputs: [fifoIn(beats)], output: fifoOut(pattern), expectBeats: 200,
                                   maxCycles: 10_000, hold: ["rst": 0])
            try sim.step(2)
            return r
        }
        // The same session live into a VCD and replayed from the recording.
        let liveURL = dir.appendingPathComponent("live.vcd")
        let live = try Simulation(StreamDesigns.fifo2, waveform: liveURL, initialState: .zero)
        let liveResult = try session(live)
        live.close()
        let sim = try Simulation(StreamDesigns.fifo2, initialState: .zero)
        defer { sim.close() }
        let result = try session(sim)
        #expect(result == liveResult)
        #expect(result.beats == beats)
        let replayURL = try sim.dumpWaveform(to: dir.appendingPathComponent("replay.vcd"))
        let replay = try String(contentsOf: replayURL, encoding: .utf8)
        let liveText = try String(contentsOf: liveURL, encoding: .utf8)
        #expect(replay.contains("$enddefinitions"))
        #expect(replay.contains(" in_data ") || replay.contains(" in_data ["))
        #expect(replay.contains(" out_data ") || replay.contains(" out_data ["))
        // Value changes after the header are identical: the replay is the run.
        func body(_ s: String) -> Substring { s[s.range(of: "$enddefinitions")!.upperBound...] }
        #expect(body(replay) == body(liveText))
        // The last cycle is in there: (1 + cycles + 2) cycles of 10 time units.
        #expect(replay.contains("#\(10 * (1 + result.cycles + 2))"))
    }

    @Test func readyPatternMatchesTheDriver() {
        // The Swift mirror of the driver's generator (the FIFO tests check it
        // against real runs); here only its basic shape.
        let p = ReadyPattern.random(probability: 0.25, seed: 42).values(cycles: 100_000)
        let rate = Double(p.filter { $0 }.count) / Double(p.count)
        #expect(rate > 0.24 && rate < 0.26)
        #expect(ReadyPattern.random(probability: 1, seed: 0).values(cycles: 1000).allSatisfy { $0 })
        #expect(ReadyPattern.random(probability: 0, seed: 0).values(cycles: 1000).allSatisfy { !$0 })
        #expect(ReadyPattern.repeating([true, false]).values(cycles: 5) == [true, false, true, false, true])
        #expect(ReadyPattern.threshold(0.5) == 1 << 31)
    }

    @Test func misuseIsReported() throws {
        let sim = try Simulation(StreamDesigns.join2, initialState: .zero)
        defer { sim.close() }
        let a = StreamInput(valid: "a_valid", ready: "a_ready", data: ["a_data", "a_last"], beats: [1, 0, 2])
        let b = StreamInput(valid: "b_valid", ready: "b_ready", data: ["b_data"], beats: [1, 0])
        let out = StreamOutput(valid: "c_valid", ready: "c_ready", data: ["c_data"])
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        #expect(message { _ = try sim.stream(inputs: [a, b], output: out, expectBeats: 1, maxCycles: 10) }
            .contains("not a whole number of 2-word beats"))
        var a2 = a
        a2.beats = [1, 0]
        var wide = b
        wide.valid = ["b_data"]
        #expect(message { _ = try sim.stream(inputs: [a2, wide], output: out, expectBeats: 1, maxCycles: 10) }
            .contains("100 bits wide"))
        var twice = b
        twice.data = ["a_data"]
        #expect(message { _ = try sim.stream(inputs: [a2, twice], output: out, expectBeats: 1, maxCycles: 10) }
            .contains("port `a_data` is both"))
        var badReady = b
        badReady.ready = ["c_ready"]
        #expect(message { _ = try sim.stream(inputs: [a2, badReady], output: out, expectBeats: 1, maxCycles: 10) }
            .contains("must be an output"))
        #expect(message { _ = try sim.stream(inputs: [a2, b], output: nil, expectBeats: 1, maxCycles: 10) }
            .contains("no output stream"))
        #expect(message { _ = try sim.stream(inputs: [a2, b], output: out, expectBeats: 1, maxCycles: 10, hold: ["clk": 0]) }
            .contains("clock"))
        var noisy = out
        noisy.readyPattern = .random(probability: 1.5, seed: 1)
        #expect(message { _ = try sim.stream(inputs: [a2, b], output: noisy, expectBeats: 1, maxCycles: 10) }
            .contains("not in 0...1"))
        // Still usable, and nothing was sent by the failed calls.
        let r = try sim.stream(inputs: [a2, b], output: out, expectBeats: 1, maxCycles: 10)
        #expect(r.complete && r.deliveryCycles == [1] && r.startCycle == 0)
    }

    @Test func throughput() throws {
        // Reports stream-mode speed on the FIFO (the model is tiny, so this
        // measures the driver loop and the Swift side).
        let sim = try Simulation(StreamDesigns.fifo2, record: false, initialState: .zero)
        defer { sim.close() }
        try reset(sim)
        let n = 2_000_000
        let beats = (0..<UInt64(n)).map { $0 & 0xFFFF_FFFF }
        for pattern in [ReadyPattern.always, .random(probability: 0.5, seed: 7)] {
            let t0 = Date()
            let r = try sim.stream(inputs: [fifoIn(beats)], output: fifoOut(pattern), expectBeats: n,
                                   maxCycles: 10 * n, hold: ["rst": 0])
            let dt = Date().timeIntervalSince(t0)
            #expect(r.complete && r.deliveredBeats == n)
            print("stream throughput (fifo2, \(pattern)): \(r.cycles) cycles in \(String(format: "%.3f", dt)) s = \(String(format: "%.2f", Double(r.cycles) / dt / 1e6)) M cycles/s")
        }
    }
}
