import HDL

/// What the pooling core does with each k×k window (stride k).
public enum PoolMode: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The largest value of the window (for bits, their OR).
    case max
    /// `(sum + n/2) >> log2(n)` over the n = k² values (arithmetic shift: rounds half up).
    case average
    /// No pooling: every post-processed value comes out.
    case none
    public var description: String { rawValue }
}

/// The post-processing (pooling) core that follows the array: steps 3 and 4 of the stage
/// contract in `QuantizedNetwork` (Sources/Model/Network.swift), on a stream of values.
///
/// Per value x (signed `inputBits`, the ROUND unit's output):
/// `y = sat_inputBits(x + bias)`; with `relu`, `y = max(y, 0)`; `y = sat_resultBits(y)`
/// (signed). Then, unless `pool` is `.none`, k×k windows with stride k (`size` = k, 2...8;
/// the average only for k a power of two) are pooled: the maximum, or `(sum + k²/2) >> log2(k²)`.
///
/// A binary core (`binary`) takes the 0/1 outputs of threshold units (1 bit, unsigned): no
/// bias, no ReLU (the contract skips step 3), and max pooling is an OR of the window.
/// A sign core (`resultBits` 1) makes such bits from signed values, as a BNN's first layer
/// does: each result is 1 when `sat_inputBits(x + bias) >= 0`, else 0 (ReLU is ignored), and
/// max pooling is again an OR.
///
/// Streaming: one value per cycle when `in_valid` is high (no backpressure; there are never
/// more results than values), row-major within a channel's plane, planes one after another.
/// `width` and `height` (pooling cores) give the plane's size and are held while a plane
/// streams (in practice for a whole layer); they must be 1...`maxWidth` and 1...`maxHeight`
/// (other values are not supported: the core keeps running but its results mean nothing).
/// `bias` (the current channel's) and `relu` are read together with each valid value, so
/// they may change from one value to the next; the host changes `bias` between planes.
/// Column and row counters follow the stream and start over after each plane, so no framing
/// signal is needed; a one-cycle `rst` at any point (mid-plane too) starts a new plane.
///
/// Pooling: where the value stands in its window (column and row phase, window index) is
/// bits of the column and row counters when k is a power of two, and counters of their own
/// otherwise (k = 3 for the ONNX model zoo's MNIST network). Within a row, a register combines the k values of the current window
/// (horizontal part); at the window's last column that partial result goes into a line
/// buffer of `maxWidth / k` entries (registers with reset, one per window of a row), written
/// on a window's first row and combined on the others. At the window's last value (last row,
/// last column) the complete result goes to the output register. Leftover columns and rows
/// (width or height not a multiple of k) never complete a window and produce nothing, as
/// `floor(side / k)` in the shape formula: the window counters simply start over at the next
/// row or plane.
///
/// Outputs: `out_valid` is high for one cycle, one cycle after the value that completes a
/// window (after every valid value without pooling); `y` holds the latest result (0 after
/// reset). A plane of H×W values yields `floor(H/k)·floor(W/k)` results, row-major.
///
/// Bias range: `bias` has `inputBits + 1` bits. Any integer bias gives the same results as
/// its clamp to that range (a bias of 2^inputBits - 1 or more saturates every sum to the
/// maximum, -2^inputBits or less every sum to the minimum), so a driver clamps wider biases.
public struct PoolingConfig: Hashable, Sendable, Codable {
    public static let valueBits = 2...32
    public static let sizes = 2...8
    public static let maxWidths = 2...1024
    public static let maxHeights = 1...4096

    /// Bits of the signed input values (ignored by a binary core, whose values are 1 bit).
    public var inputBits: Int
    /// Bits of the signed results (ignored by a binary core); 1 makes a sign core.
    public var resultBits: Int
    /// 0/1 values from threshold units: no bias or ReLU, max pooling is an OR.
    public var binary: Bool
    public var pool: PoolMode
    /// Window side k (= stride): 2...8; a power of two for the average.
    public var size: Int
    /// Widest plane, a power of two, at least 2k (the line buffer has `maxWidth / k` entries).
    public var maxWidth: Int
    /// Tallest plane, at least k.
    public var maxHeight: Int

    public init(inputBits: Int = 8, resultBits: Int = 8, binary: Bool = false, pool: PoolMode = .max, size: Int = 2,
                maxWidth: Int = 32, maxHeight: Int = 32) {
        self.inputBits = inputBits
        self.resultBits = resultBits
        self.binary = binary
        self.pool = pool
        self.size = size
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
    }

    /// The input values' shape: signed `inputBits`, or one unsigned bit.
    public var inputShape: Shape { binary ? .bit : .signed(inputBits) }
    /// A sign core: signed inputs, 0/1 results.
    public var sign: Bool { !binary && resultBits == 1 }
    /// The results' shape: signed `resultBits`, or one unsigned bit.
    public var resultShape: Shape { binary || sign ? .bit : .signed(resultBits) }
    /// The `bias` port: `inputBits + 1` bits, enough for every distinct behaviour.
    public var biasShape: Shape { .signed(inputBits + 1) }
    public var pooling: Bool { pool != .none }
    /// ceil(log2(k)).
    public var sizeBits: Int { ceilLog2(size) }
    /// k is a power of two: the window phases are bits of the counters.
    public var sizeIsPowerOfTwo: Bool { size & (size - 1) == 0 }
    /// Bits of the `width` port (holds `maxWidth`) and of the column counter (counts to
    /// `maxWidth - 1`).
    public var widthPortBits: Int { ceilLog2(maxWidth) + 1 }
    public var columnBits: Int { ceilLog2(maxWidth) }
    public var heightPortBits: Int { max(1, ceilLog2(maxHeight + 1)) }
    public var rowBits: Int { max(sizeBits, ceilLog2(maxHeight)) }
    /// Entries of the line buffer: one per window of a row.
    public var lineEntries: Int { maxWidth / size }

    /// `pool_s8_to_s8_max2_w32h32`, `post_s16_to_s8` (no pooling), `pool_bin_max2_w32h32`.
    public var moduleName: String {
        let values = binary ? "bin" : sign ? "s\(inputBits)_to_sign" : "s\(inputBits)_to_s\(resultBits)"
        guard pooling else { return "post_\(values)" }
        return "pool_\(values)_\(pool == .max ? "max" : "avg")\(size)_w\(maxWidth)h\(maxHeight)"
    }

    public func validate() throws {
        let bits = "\(Self.valueBits.lowerBound)...\(Self.valueBits.upperBound)"
        if !binary {
            try require(Self.valueBits.contains(inputBits), "input-bits", inputBits, bits)
            try require(resultBits == 1 || Self.valueBits.contains(resultBits), "result-bits", resultBits, "1 (sign) or \(bits)")
        }
        try require(!((binary || sign) && pool == .average), "pool", pool, "max, none for a binary or sign core")
        guard pooling else { return }
        try require(Self.sizes.contains(size), "size", size, "\(Self.sizes.lowerBound)...\(Self.sizes.upperBound)")
        try require(pool == .max || sizeIsPowerOfTwo, "size", size, "2, 4 or 8 for the average (a power-of-two window divides by a shift)")
        try require(Self.maxWidths.contains(maxWidth) && maxWidth & (maxWidth - 1) == 0 && maxWidth >= 2 * size,
                    "max-width", maxWidth, "a power of two, \(2 * size)...\(Self.maxWidths.upperBound)")
        try require(Self.maxHeights.contains(maxHeight) && maxHeight >= size, "max-height", maxHeight,
                    "\(size)...\(Self.maxHeights.upperBound)")
    }
}

public enum Pooling {
    /// The pooling core's ports, declared once for the generator and its drivers.
    public struct Interface: Sendable {
        /// Values in, one per valid cycle, without backpressure: `in_valid`, `x`.
        public let input: StreamPorts
        /// Not in a binary core (`relu` not in a sign core either).
        public let bias, relu: Port?
        /// Only with pooling.
        public let width, height: Port?
        /// Results out, without backpressure: `out_valid`, `y`.
        public let output: StreamPorts
        public init(_ c: PoolingConfig) {
            input = StreamPorts(valid: "in_valid", ready: nil, payload: [("data", "x", c.inputShape)], direction: .input)
            bias = c.binary ? nil : .input("bias", c.biasShape)
            relu = c.binary || c.sign ? nil : .input("relu", .bit)
            width = c.pooling ? .input("width", .unsigned(c.widthPortBits)) : nil
            height = c.pooling ? .input("height", .unsigned(c.heightPortBits)) : nil
            output = StreamPorts(valid: "out_valid", ready: nil, payload: [("data", "y", c.resultShape)], direction: .output)
        }
        public var inValid: Port { input.valid }
        public var x: Port { input.data! }
        public var outValid: Port { output.valid }
        public var y: Port { output.data! }
        /// The inputs besides `rst`, in declaration order.
        public var inputs: [Port] { [inValid, x] + [bias, relu, width, height].compactMap { $0 } }
    }

    /// Ports: `in_valid`, `x`, `bias`, `relu`, `width`, `height` in (see `PoolingConfig` for
    /// which a configuration has); `out_valid`, `y` out. Latency one cycle.
    public static func module(_ c: PoolingConfig) throws -> ModuleDefinition {
        try c.validate()
        let p = Interface(c)
        return try ModuleDefinition.define(c.moduleName) { m in
            let input = m.stream(p.input), output = m.stream(p.output)
            let (valid, x) = (input.valid, input.data)
            // Step 3: bias, saturate, ReLU, saturate.
            let value: Signal
            if let biasPort = p.bias {
                let bias = m.input(biasPort)
                let biased = (x + bias).saturated(to: .signed(c.inputBits)).named("biased")
                if let reluPort = p.relu {
                    let relu = m.input(reluPort)
                    let rectified = mux(relu & biased.msb, m.constant(0, biased.shape), biased).named("rectified")
                    value = rectified.saturated(to: c.resultShape).named("value")
                } else {
                    value = (~biased.msb).named("value")  // a sign core: 1 when biased >= 0
                }
            } else {
                value = x
            }
            guard c.pooling, let widthPort = p.width, let heightPort = p.height else {
                output.valid.assign(m.delay(valid, name: "valid_q"))
                output.data.assign(m.delay(value, name: "y_q", enable: valid))
                return
            }
            let width = m.input(widthPort)
            let height = m.input(heightPort)
            let kb = c.sizeBits
            // Where the value stands: column and row within the plane, both start over at the
            // plane's last value.
            let col = m.register("col_q", .unsigned(c.columnBits), enable: valid)
            let row = m.register("row_q", .unsigned(c.rowBits), enable: valid)
            let colLast = (col .== (width &- 1)).named("col_last")
            let rowLast = (row .== (height &- 1)).named("row_last")
            col.assign(mux(colLast, m.constant(0, col.shape), col &+ 1))
            row.assign(mux(colLast, mux(rowLast, m.constant(0, row.shape), row &+ 1), row))
            let window: Signal, windowEnd: Signal, rowFirst: Signal, rowEnd: Signal, colFirst: Signal
            if c.sizeIsPowerOfTwo {
                let colPhase = col.bits(kb - 1, 0).named("col_phase")
                let rowPhase = row.bits(kb - 1, 0).named("row_phase")
                window = col.bits(c.columnBits - 1, kb).named("window")
                windowEnd = colPhase.andReduce().named("window_end")
                colFirst = colPhase .== 0
                rowFirst = (rowPhase .== 0).named("row_first")
                rowEnd = rowPhase.andReduce().named("row_end")
            } else {
                // Phases count 0...k-1 and start over at a window's end or the row's (plane's) end;
                // the window index counts completed windows of the row.
                let colPhase = m.register("col_phase_q", .unsigned(kb), enable: valid)
                let rowPhase = m.register("row_phase_q", .unsigned(kb), enable: valid)
                let windowIndex = m.register("window_q", .unsigned(max(1, ceilLog2(c.lineEntries + 1))), enable: valid)
                windowEnd = (colPhase .== (c.size - 1)).named("window_end")
                rowEnd = (rowPhase .== (c.size - 1)).named("row_end")
                colFirst = (colPhase .== 0).named("col_first")
                rowFirst = (rowPhase .== 0).named("row_first")
                window = windowIndex
                colPhase.assign(mux(colLast | windowEnd, m.constant(0, colPhase.shape), colPhase &+ 1))
                windowIndex.assign(mux(colLast, m.constant(0, windowIndex.shape), mux(windowEnd, windowIndex &+ 1, windowIndex)))
                rowPhase.assign(mux(colLast, mux(rowLast | rowEnd, m.constant(0, rowPhase.shape), rowPhase &+ 1), rowPhase))
            }

            // Partial results: the maximum, or exact sums (k values in a row, then k rows).
            let rowShape = c.pool == .average ? Shape.signed(c.resultBits + kb) : c.resultShape
            let lineShape = c.pool == .average ? Shape.signed(c.resultBits + 2 * kb) : c.resultShape
            func combine(_ a: Signal, _ b: Signal) -> Signal {
                switch (c.pool, c.binary || c.sign) {
                case (.max, true): return a | b
                case (.max, false): return mux(a .> b, a, b)
                default: return a &+ b
                }
            }
            // Horizontal: the values of the current window in this row so far.
            let partial = m.register("row_partial_q", rowShape, enable: valid)
            let wide = value.extended(to: rowShape.width)
            partial.assign(mux(colFirst, wide, combine(partial, wide)))
            let rowResult = combine(partial, wide).named("row_result")
            // Vertical: one line entry per window of a row, loaded on the window's first row.
            let write = (valid & windowEnd).named("line_write")
            let entries = (0..<c.lineEntries).map { i in
                m.register("line_\(i)_q", lineShape, enable: write & (window .== i))
            }
            let stored = select(window, entries, default: entries[0]).named("line_read")
            let rowWide = rowResult.extended(to: lineShape.width)
            let combined = combine(stored, rowWide).named("window_result")
            let lineNext = mux(rowFirst, rowWide, combined)
            for e in entries { e.assign(lineNext) }

            let complete = (write & rowEnd).named("complete")
            let result: Signal
            if c.pool == .average {
                let rounded = (combined &+ (1 << (2 * kb - 1))) >> (2 * kb)
                result = rounded.truncated(to: c.resultBits).named("average")
            } else {
                result = combined
            }
            output.valid.assign(m.delay(complete, name: "valid_q"))
            output.data.assign(m.delay(result, name: "y_q", enable: complete))
        }
    }
}
