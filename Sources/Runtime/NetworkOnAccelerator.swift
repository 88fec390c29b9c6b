import Accelerator
import Golden
import Model

/// A compiled network (`NetworkProgram`) on an accelerator, image by image, with the host only
/// writing memory and registers: the image into the input region, the program and window
/// registers, CTRL.start; then it reads PC while it waits for the interrupt (to time each
/// layer), STATUS, the counters, and the layers' results from DRAM.
public final class NetworkOnAccelerator {
    public let program: NetworkProgram
    public let host: AcceleratorHost

    /// One image's run.
    public struct ImageRun: Sendable {
        /// Each layer's results as read back from its DRAM region (the last: the logits).
        public var results: [[Int]]
        public var counters: AcceleratorHost.Counters
        /// Cycles from start to each layer's first instruction, to the next layer's (the last: to
        /// the interrupt), as the host saw PC (a read takes a few cycles, so within those).
        public var layerCycles: [Int]
        public var dramBytesRead: Int, dramBytesWritten: Int
        public var logits: [Int] { results.last! }
    }

    /// Writes the program, biases and weights into the host's DRAM (once for every image).
    public init(_ program: NetworkProgram, host: AcceleratorHost) {
        self.program = program
        self.host = host
        for region in program.image { host.dram.write(region.bytes, at: region.address) }
    }

    /// Runs one image (input codes of the first layer).
    public func run(codes: [Int], maxCycles: Int = 20_000_000) throws -> ImageRun {
        let dram = host.dram
        let before = dram.counts
        dram.write(program.inputBytes(codes: codes), at: program.inputBase)
        let base = program.programBase, window = program.window
        try host.write("PROG_BASE_LO", UInt32(truncatingIfNeeded: base)); try host.write("PROG_BASE_HI", UInt32(truncatingIfNeeded: base >> 32))
        try host.write("PROG_LEN", UInt32(program.program.count))
        try host.write("WINDOW_BASE_LO", UInt32(truncatingIfNeeded: window.lowerBound))
        try host.write("WINDOW_BASE_HI", UInt32(truncatingIfNeeded: window.lowerBound >> 32))
        let size = window.upperBound - window.lowerBound
        try host.write("WINDOW_SIZE_LO", UInt32(truncatingIfNeeded: size)); try host.write("WINDOW_SIZE_HI", UInt32(truncatingIfNeeded: size >> 32))
        try host.write("CTRL", 0b101)  // irq enable, start
        let t0 = host.sim.cycle
        var starts = [Int?](repeating: nil, count: program.layers.count)
        while try !host.irq() {
            let pc = Int(try host.read("PC"))
            for (s, l) in program.layers.enumerated() where starts[s] == nil && pc >= l.firstInstruction { starts[s] = host.sim.cycle - t0 }
            if host.sim.cycle - t0 > maxCycles { throw HostError("no interrupt within \(maxCycles) cycles (PC \(pc))") }
        }
        let end = host.sim.cycle - t0
        let status = try host.status()
        guard status.done && !status.error else {
            throw HostError("the accelerator stopped with \(status.failure.map { "error \($0.rawValue) (\($0))" } ?? "no done") at PC \(try host.read("PC"))")
        }
        let counters = try host.counters()
        let s = starts.map { $0 ?? end }
        let layerCycles = s.indices.map { i in (i + 1 < s.count ? s[i + 1] : end) - s[i] }
        let results = program.layers.indices.map { program.results(of: $0, from: dram) }
        return ImageRun(results: results, counters: counters, layerCycles: layerCycles,
                        dramBytesRead: dram.counts.bytesRead - before.bytesRead, dramBytesWritten: dram.counts.bytesWritten - before.bytesWritten)
    }

    /// The golden network on the same image from reset (the program reseeds at every start),
    /// against the run: nil when every layer's results are the same, else one line naming the
    /// image, the first logit that differs and the first layer whose output region differs.
    public static func mismatch(image: Int, codes: [Int], run: ImageRun, golden: inout NetworkModel, layers: [NetworkProgram.Layer]) -> String? {
        golden.reset()
        var x = codes
        var firstLayer: (Int, Int)? = nil
        var expected: [[Int]] = []
        for s in layers.indices {
            x = golden.stage(s, input: x, images: 1).results
            expected.append(x)
            if firstLayer == nil, let n = zip(x, run.results[s]).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                firstLayer = (s, n)
            }
        }
        guard let (s, n) = firstLayer else { return nil }
        let logits = run.logits, want = expected.last!
        let logit = zip(logits, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        let logitText = logit.map { "logit \($0) is \(logits[$0]), the golden network's \(want[$0])" } ?? "the logits agree"
        return "image \(image): \(logitText); first layer whose output region differs: \(layers[s].name), output \(n) is \(run.results[s][n]), golden \(expected[s][n])"
    }
}
