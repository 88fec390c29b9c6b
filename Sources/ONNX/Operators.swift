import Foundation

/// The supported operators' definitions (onnx.ai operator docs, opsets 7 to 23), one function
/// each. `Preflight` has already refused the attribute values not handled here.
enum Operators {
    static func evaluate(_ node: Node, _ x: [Tensor?], opset: Int) throws -> [Tensor] {
        func arg(_ i: Int) throws -> Tensor {
            guard i < x.count, let t = x[i] else { throw ONNXError("input \(i) is missing") }
            return t
        }
        func opt(_ i: Int) -> Tensor? { i < x.count ? x[i] : nil }
        let a = node.attributes
        switch node.opType {
        case "Conv": return [try conv(try arg(0), try arg(1), opt(2), a)]
        case "Gemm": return [try gemm(try arg(0), try arg(1), opt(2), a)]
        case "MatMul": return [try matMul(try arg(0), try arg(1))]
        case "Add": return [try add(try arg(0), try arg(1))]
        case "Relu": return [try float(arg(0)) { max($0, 0) }]
        case "Clip": return [try clip(try arg(0), opset < 11 ? nil : opt(1), opset < 11 ? nil : opt(2), a)]
        case "MaxPool": return [try pool(try arg(0), a, max: true)]
        case "AveragePool": return [try pool(try arg(0), a, max: false)]
        case "GlobalAveragePool": return [try globalAveragePool(try arg(0))]
        case "Flatten": return [try flatten(try arg(0), axis: a["axis"]?.int ?? 1)]
        case "Reshape": return [try reshape(try arg(0), try arg(1), allowZero: a["allowzero"]?.int == 1)]
        case "BatchNormalization": return [try batchNorm(try arg(0), try arg(1), try arg(2), try arg(3), try arg(4), epsilon: a["epsilon"]?.float ?? 1e-5)]
        case "Softmax": return [try softmax(try arg(0), axis: a["axis"]?.int ?? (opset < 13 ? 1 : -1), coerced: opset < 13)]
        case "QuantizeLinear": return [try quantize(try arg(0), try arg(1), opt(2), axis: a["axis"]?.int ?? 1, dtype: a["output_dtype"]?.int ?? 0)]
        case "DequantizeLinear": return [try dequantize(try arg(0), try arg(1), opt(2), axis: a["axis"]?.int ?? 1)]
        case "Constant": return [try constant(a)]
        case "Identity": return [try arg(0)]
        case "Dropout":
            // Inference: the identity. A training_mode input that is true is refused.
            if opset >= 12, let training = opt(2), training.asInts.contains(where: { $0 != 0 }) {
                throw ONNXError("training_mode is true: only inference is supported")
            }
            return [try arg(0)]
        case "Cast":
            let t = try arg(0)
            let to = a["to"]?.int ?? 0
            guard to == t.element.rawValue else {
                throw ONNXError("a Cast from \(t.element) to \(ElementType.name(to)): only a Cast to the type the tensor has is supported")
            }
            return [t]
        case "Shape": return [shape(try arg(0), start: a["start"]?.int, end: a["end"]?.int)]
        case "Gather": return [try gather(try arg(0), try arg(1), axis: a["axis"]?.int ?? 0)]
        case "Concat": return [try concat(x.compactMap { $0 }, axis: a["axis"]?.int ?? 0)]
        case "Unsqueeze":
            let axes = opset < 13 ? (a["axes"]?.ints ?? []) : (try arg(1)).asInts
            return [try unsqueeze(try arg(0), axes: axes)]
        default:
            throw ONNXError("operator not supported")
        }
    }

    // MARK: element-wise

    static func float(_ t: Tensor, _ f: (Float) -> Float) throws -> Tensor {
        guard t.element.isFloat else { throw ONNXError("element type \(t.element): only float is supported") }
        return Tensor(shape: t.shape, floats: t.floats.map(f))
    }

    /// The multidirectional (numpy) broadcast of two shapes, or nil.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: n - a.count) + a, pb = [Int](repeating: 1, count: n - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else { return nil }
        }
        return out
    }

    /// For each element of `shape`, the flat index into a tensor of shape `from` broadcast to it.
    static func broadcastIndices(from: [Int], to shape: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: shape.count - from.count) + from
        let fs = strides(padded), os = strides(shape)
        let count = shape.reduce(1, *)
        return (0..<count).map { i in
            var src = 0
            for d in shape.indices where padded[d] != 1 { src += (i / os[d] % shape[d]) * fs[d] }
            return src
        }
    }

    static func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.element == b.element else { throw ONNXError("Add of \(a.element) and \(b.element)") }
        guard let shape = broadcast(a.shape, b.shape) else { throw ONNXError("shapes \(a.shape) and \(b.shape) do not broadcast") }
        let ia = broadcastIndices(from: a.shape, to: shape), ib = broadcastIndices(from: b.shape, to: shape)
        if a.element.isFloat {
            return Tensor(shape: shape, floats: zip(ia, ib).map { a.floats[$0] + b.floats[$1] })
        }
        let r = a.element.range
        return Tensor(a.element, shape: shape, ints: try zip(ia, ib).map { i, j in
            let s = a.ints[i].addingReportingOverflow(b.ints[j])
            guard !s.overflow, r.contains(s.partialValue) else { throw ONNXError("\(a.element) Add overflows") }
            return s.partialValue
        })
    }

    static func clip(_ t: Tensor, _ lo: Tensor?, _ hi: Tensor?, _ a: [String: Attribute]) throws -> Tensor {
        if t.element.isFloat {
            let low = lo?.asFloats.first ?? a["min"]?.float ?? -Float.greatestFiniteMagnitude
            let high = hi?.asFloats.first ?? a["max"]?.float ?? Float.greatestFiniteMagnitude
            return Tensor(shape: t.shape, floats: t.floats.map { min(max($0, low), high) })
        }
        let low = lo?.ints.first ?? t.element.range.lowerBound, high = hi?.ints.first ?? t.element.range.upperBound
        return Tensor(t.element, shape: t.shape, ints: t.ints.map { min(max($0, low), high) })
    }

    // MARK: convolution and pooling

    /// Output size and padding of one spatial axis (auto_pad, or explicit pads; ceil_mode).
    static func window(size: Int, kernel: Int, stride: Int, padBegin: Int, padEnd: Int, autoPad: String, ceil: Bool) throws
        -> (out: Int, begin: Int, end: Int) {
        switch autoPad {
        case "SAME_UPPER", "SAME_LOWER":
            let out = (size + stride - 1) / stride
            let total = max(0, (out - 1) * stride + kernel - size)
            let begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            return (out, begin, total - begin)
        default:
            let (b, e) = autoPad == "VALID" ? (0, 0) : (padBegin, padEnd)
            let span = size + b + e - kernel
            guard span >= 0 else { throw ONNXError("a kernel of \(kernel) does not fit an axis of \(size) padded by \(b)+\(e)") }
            var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
            // The last window must start inside the input or its leading padding.
            if ceil, (out - 1) * stride >= size + b { out -= 1 }
            return (out, b, e)
        }
    }

    struct Geometry {
        var n: Int, c: Int, h: Int, w: Int
        var kh: Int, kw: Int, sh: Int, sw: Int
        var top: Int, left: Int, bottom: Int, right: Int
        var oh: Int, ow: Int
    }

    static func geometry(_ x: Tensor, kernel: [Int], _ a: [String: Attribute], ceil: Bool = false) throws -> Geometry {
        guard x.rank == 4 else { throw ONNXError("input of shape \(x.shape): only 2-D (N×C×H×W) is supported") }
        guard x.element.isFloat else { throw ONNXError("element type \(x.element): only float is supported") }
        let s = a["strides"]?.ints ?? [1, 1], p = a["pads"]?.ints ?? [0, 0, 0, 0]
        let autoPad = a["auto_pad"]?.string ?? "NOTSET"
        guard s.allSatisfy({ $0 > 0 }), p.allSatisfy({ $0 >= 0 }) else { throw ONNXError("strides \(s) or pads \(p) out of range") }
        let y = try window(size: x.shape[2], kernel: kernel[0], stride: s[0], padBegin: p[0], padEnd: p[2], autoPad: autoPad, ceil: ceil)
        let z = try window(size: x.shape[3], kernel: kernel[1], stride: s[1], padBegin: p[1], padEnd: p[3], autoPad: autoPad, ceil: ceil)
        return Geometry(n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], kh: kernel[0], kw: kernel[1], sh: s[0], sw: s[1],
                        top: y.begin, left: z.begin, bottom: y.end, right: z.end, oh: y.out, ow: z.out)
    }

    static func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ a: [String: Attribute]) throws -> Tensor {
        guard w.rank == 4, w.element.isFloat else { throw ONNXError("weight \(w): only 2-D float convolutions are supported") }
        let kernel = Array(w.shape[2...])
        if let k = a["kernel_shape"]?.ints, k != kernel { throw ONNXError("kernel_shape \(k) differs from the weight's \(kernel)") }
        let g = try geometry(x, kernel: kernel, a)
        let m = w.shape[0]
        guard w.shape[1] == g.c else { throw ONNXError("weight \(w.shape) for \(g.c) input channels") }
        if let b, b.shape != [m] || !b.element.isFloat { throw ONNXError("bias \(b) for \(m) filters") }
        var out = [Float](repeating: 0, count: g.n * m * g.oh * g.ow)
        for n in 0..<g.n {
            for f in 0..<m {
                for e in 0..<g.oh {
                    for q in 0..<g.ow {
                        var sum = Double(b?.floats[f] ?? 0)
                        for c in 0..<g.c {
                            for r in 0..<g.kh {
                                let yy = e * g.sh + r - g.top
                                if yy < 0 || yy >= g.h { continue }
                                for s in 0..<g.kw {
                                    let xx = q * g.sw + s - g.left
                                    if xx < 0 || xx >= g.w { continue }
                                    sum += Double(x.floats[((n * g.c + c) * g.h + yy) * g.w + xx]) * Double(w.floats[((f * g.c + c) * g.kh + r) * g.kw + s])
                                }
                            }
                        }
                        out[((n * m + f) * g.oh + e) * g.ow + q] = Float(sum)
                    }
                }
            }
        }
        return Tensor(shape: [g.n, m, g.oh, g.ow], floats: out)
    }

    /// MaxPool, or AveragePool dividing by the window's positions inside the input
    /// (count_include_pad 0) or inside the padded input (count_include_pad 1).
    static func pool(_ x: Tensor, _ a: [String: Attribute], max isMax: Bool) throws -> Tensor {
        guard let kernel = a["kernel_shape"]?.ints else { throw ONNXError("kernel_shape is required") }
        let g = try geometry(x, kernel: kernel, a, ceil: a["ceil_mode"]?.int == 1)
        let includePad = a["count_include_pad"]?.int == 1
        var out = [Float](repeating: 0, count: g.n * g.c * g.oh * g.ow)
        for plane in 0..<g.n * g.c {
            for e in 0..<g.oh {
                for q in 0..<g.ow {
                    var best = -Float.infinity, sum = 0.0, inside = 0, padded = 0
                    for r in 0..<g.kh {
                        let yy = e * g.sh + r - g.top
                        for s in 0..<g.kw {
                            let xx = q * g.sw + s - g.left
                            if yy >= -g.top, yy < g.h + g.bottom, xx >= -g.left, xx < g.w + g.right { padded += 1 }
                            if yy < 0 || yy >= g.h || xx < 0 || xx >= g.w { continue }
                            let v = x.floats[(plane * g.h + yy) * g.w + xx]
                            best = Swift.max(best, v)
                            sum += Double(v)
                            inside += 1
                        }
                    }
                    out[(plane * g.oh + e) * g.ow + q] = isMax ? best : Float(sum / Double(includePad ? padded : inside))
                }
            }
        }
        return Tensor(shape: [g.n, g.c, g.oh, g.ow], floats: out)
    }

    static func globalAveragePool(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 3, x.element.isFloat else { throw ONNXError("input \(x): a float N×C×spatial tensor is required") }
        let planes = x.shape[0] * x.shape[1], area = x.count / max(1, planes)
        let out = (0..<planes).map { p in Float(x.floats[p * area..<(p + 1) * area].reduce(0.0) { $0 + Double($1) } / Double(area)) }
        return Tensor(shape: Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.rank - 2), floats: out)
    }

    // MARK: products

    /// `alpha · A' · B' + beta · C`, A' and B' optionally transposed, C broadcast to M×N.
    static func gemm(_ a: Tensor, _ b: Tensor, _ c: Tensor?, _ at: [String: Attribute]) throws -> Tensor {
        guard a.rank == 2, b.rank == 2, a.element.isFloat, b.element.isFloat else { throw ONNXError("Gemm of \(a) and \(b): float matrices are required") }
        let ta = at["transA"]?.int == 1, tb = at["transB"]?.int == 1
        let alpha = Double(at["alpha"]?.float ?? 1), beta = Double(at["beta"]?.float ?? 1)
        let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = tb ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == k2 else { throw ONNXError("Gemm of \(m)×\(k) and \(k2)×\(n)") }
        var ci: [Int]?
        if let c {
            guard c.element.isFloat, broadcast(c.shape, [m, n]) == [m, n] else { throw ONNXError("C \(c) does not broadcast to \(m)×\(n)") }
            ci = broadcastIndices(from: c.shape, to: [m, n])
        }
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = ta ? a.floats[p * m + i] : a.floats[i * k + p]
                    let bv = tb ? b.floats[j * k + p] : b.floats[p * n + j]
                    sum += Double(av) * Double(bv)
                }
                var y = alpha * sum
                if let c, let ci { y += beta * Double(c.floats[ci[i * n + j]]) }
                out[i * n + j] = Float(y)
            }
        }
        return Tensor(shape: [m, n], floats: out)
    }

    /// numpy.matmul: 1-D operands promoted and the added axis removed, batch axes broadcast.
    static func matMul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.element.isFloat, b.element.isFloat, a.rank >= 1, b.rank >= 1 else { throw ONNXError("MatMul of \(a) and \(b): float tensors are required") }
        let sa = a.rank == 1 ? [1] + a.shape : a.shape, sb = b.rank == 1 ? b.shape + [1] : b.shape
        let m = sa[sa.count - 2], k = sa[sa.count - 1], k2 = sb[sb.count - 2], n = sb[sb.count - 1]
        guard k == k2 else { throw ONNXError("MatMul of \(a.shape) and \(b.shape)") }
        let ba = Array(sa.dropLast(2)), bb = Array(sb.dropLast(2))
        guard let batch = broadcast(ba, bb) else { throw ONNXError("MatMul batch axes \(ba) and \(bb) do not broadcast") }
        let ia = broadcastIndices(from: ba, to: batch), ib = broadcastIndices(from: bb, to: batch)
        var out = [Float](repeating: 0, count: ia.count * m * n)
        for (t, (pa, pb)) in zip(ia, ib).enumerated() {
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a.floats[pa * m * k + i * k + p]) * Double(b.floats[pb * k * n + p * n + j]) }
                    out[(t * m + i) * n + j] = Float(sum)
                }
            }
        }
        var shape = batch + [m, n]
        if b.rank == 1 { shape.removeLast() }
        if a.rank == 1 { shape.remove(at: shape.count - (b.rank == 1 ? 1 : 2)) }
        return Tensor(shape: shape, floats: out)
    }

    // MARK: normalization

    static func batchNorm(_ x: Tensor, _ scale: Tensor, _ bias: Tensor, _ mean: Tensor, _ variance: Tensor, epsilon: Float) throws -> Tensor {
        guard x.rank >= 2, x.element.isFloat else { throw ONNXError("input \(x): a float N×C×… tensor is required") }
        let c = x.shape[1]
        for p in [scale, bias, mean, variance] where p.shape != [c] || !p.element.isFloat {
            throw ONNXError("parameter \(p) for \(c) channels")
        }
        let area = x.count / (x.shape[0] * c)
        var out = x.floats
        for i in out.indices {
            let ch = i / area % c
            let inv = 1 / (Double(variance.floats[ch]) + Double(epsilon)).squareRoot()
            out[i] = Float((Double(x.floats[i]) - Double(mean.floats[ch])) * inv * Double(scale.floats[ch]) + Double(bias.floats[ch]))
        }
        return Tensor(shape: x.shape, floats: out)
    }

    /// Softmax along `axis`; before opset 13 over all axes from `axis` on (the input coerced to 2-D).
    static func softmax(_ x: Tensor, axis: Int, coerced: Bool) throws -> Tensor {
        guard x.element.isFloat else { throw ONNXError("element type \(x.element): only float is supported") }
        let ax = axis < 0 ? axis + x.rank : axis
        guard (0..<Swift.max(x.rank, 1)).contains(ax) else { throw ONNXError("axis \(axis) for rank \(x.rank)") }
        let outer = x.shape[0..<ax].reduce(1, *)
        let (len, inner) = coerced ? (x.shape[ax...].reduce(1, *), 1) : (x.shape[ax], x.shape[(ax + 1)...].reduce(1, *))
        var out = x.floats
        for o in 0..<outer {
            for i in 0..<inner {
                let idx = (0..<len).map { (o * len + $0) * inner + i }
                let top = idx.map { x.floats[$0] }.max() ?? 0
                let e = idx.map { Foundation.exp(Double(x.floats[$0]) - Double(top)) }
                let sum = e.reduce(0, +)
                for (j, v) in zip(idx, e) { out[j] = Float(v / sum) }
            }
        }
        return Tensor(shape: x.shape, floats: out)
    }

    // MARK: quantization

    /// Scale and zero point per element of a tensor of shape `shape`: one pair for a scalar or
    /// one-element scale, else one per index along `axis`.
    static func perElement(_ scale: Tensor, _ zero: Tensor?, shape: [Int], axis: Int) throws -> (scales: [Float], zeros: [Int64], perAxis: (Int, Int)?) {
        guard scale.element.isFloat else { throw ONNXError("scale \(scale): float is required") }
        let zeros = zero?.ints ?? [Int64](repeating: 0, count: scale.count)
        guard zeros.count == scale.count else { throw ONNXError("zero point \(zero!) for scale \(scale)") }
        if scale.count == 1, scale.rank <= 1 { return (scale.floats, zeros, nil) }
        let ax = axis < 0 ? axis + shape.count : axis
        guard scale.rank == 1, (0..<shape.count).contains(ax), shape[ax] == scale.count else {
            throw ONNXError("scale \(scale) does not match axis \(axis) of \(shape) (blocked quantization is not supported)")
        }
        return (scale.floats, zeros, (shape[(ax + 1)...].reduce(1, *), shape[ax]))
    }

    /// `saturate(round_half_even(x / scale) + zero_point)`, int8 or uint8 (the zero point's type,
    /// uint8 without one).
    static func quantize(_ x: Tensor, _ scale: Tensor, _ zero: Tensor?, axis: Int, dtype: Int) throws -> Tensor {
        guard x.element.isFloat else { throw ONNXError("input \(x): float is required") }
        let type: ElementType = zero?.element ?? (dtype == 3 ? .int8 : .uint8)
        guard type == .int8 || type == .uint8 else { throw ONNXError("output type \(type): only int8 and uint8 are supported") }
        let p = try perElement(scale, zero, shape: x.shape, axis: axis)
        let r = type.range
        let q = x.floats.indices.map { i -> Int64 in
            let c = p.perAxis.map { i / $0.0 % $0.1 } ?? 0
            let v = (x.floats[i] / p.scales[c]).rounded(.toNearestOrEven)
            let shifted = Double(v) + Double(p.zeros[c])
            return Int64(Swift.min(Swift.max(shifted, Double(r.lowerBound)), Double(r.upperBound)))
        }
        return Tensor(type, shape: x.shape, ints: q)
    }

    /// `(x − zero_point) · scale` in float.
    static func dequantize(_ x: Tensor, _ scale: Tensor, _ zero: Tensor?, axis: Int) throws -> Tensor {
        guard [.int8, .uint8, .int32].contains(x.element) else { throw ONNXError("input \(x): int8, uint8 or int32 is required") }
        if let zero, zero.element != x.element { throw ONNXError("zero point \(zero) for input \(x)") }
        let p = try perElement(scale, zero, shape: x.shape, axis: axis)
        return Tensor(shape: x.shape, floats: x.ints.indices.map { i in
            let c = p.perAxis.map { i / $0.0 % $0.1 } ?? 0
            return Float(x.ints[i] - p.zeros[c]) * p.scales[c]
        })
    }

    // MARK: constants and layout

    static func constant(_ a: [String: Attribute]) throws -> Tensor {
        if case .tensor(let t)? = a["value"] { return t }
        if let v = a["value_float"]?.float { return Tensor(shape: [], floats: [v]) }
        if case .floats(let v)? = a["value_floats"] { return Tensor(shape: [v.count], floats: v) }
        if let v = a["value_int"]?.int { return Tensor(.int64, shape: [], ints: [Int64(v)]) }
        if let v = a["value_ints"]?.ints { return Tensor(.int64, shape: [v.count], ints: v.map { Int64($0) }) }
        throw ONNXError("no supported value attribute")
    }

    static func flatten(_ x: Tensor, axis: Int) throws -> Tensor {
        let ax = axis < 0 ? axis + x.rank : axis
        guard (0...x.rank).contains(ax) else { throw ONNXError("axis \(axis) for rank \(x.rank)") }
        return x.reshaped([x.shape[0..<ax].reduce(1, *), x.shape[ax...].reduce(1, *)])
    }

    static func reshape(_ x: Tensor, _ shape: Tensor, allowZero: Bool) throws -> Tensor {
        var dims = shape.asInts
        for i in dims.indices where dims[i] == 0 && !allowZero {
            guard i < x.rank else { throw ONNXError("shape \(dims): a 0 beyond the input's rank \(x.rank)") }
            dims[i] = x.shape[i]
        }
        let known = dims.filter { $0 != -1 }.reduce(1, *)
        if let i = dims.firstIndex(of: -1) {
            guard dims.filter({ $0 == -1 }).count == 1, known > 0, x.count % known == 0 else { throw ONNXError("cannot infer shape \(dims) for \(x.shape)") }
            dims[i] = x.count / known
        }
        guard dims.allSatisfy({ $0 >= 0 }), dims.reduce(1, *) == x.count else { throw ONNXError("shape \(dims) for \(x.count) values") }
        return x.reshaped(dims)
    }

    static func shape(_ x: Tensor, start: Int?, end: Int?) -> Tensor {
        func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + x.rank : v, 0), x.rank) }
        let s = clamp(start ?? 0), e = clamp(end ?? x.rank)
        let dims = s < e ? Array(x.shape[s..<e]) : []
        return Tensor(.int64, shape: [dims.count], ints: dims.map { Int64($0) })
    }

    static func gather(_ x: Tensor, _ indices: Tensor, axis: Int) throws -> Tensor {
        let ax = axis < 0 ? axis + x.rank : axis
        guard (0..<x.rank).contains(ax), !indices.element.isFloat else { throw ONNXError("axis \(axis) of \(x), indices \(indices)") }
        let n = x.shape[ax]
        let idx = try indices.ints.map { i -> Int in
            guard (-n..<n).contains(Int(i)) else { throw ONNXError("index \(i) outside \(n)") }
            return i < 0 ? Int(i) + n : Int(i)
        }
        let outer = x.shape[0..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
        var flat: [Int] = []
        for o in 0..<outer { for i in idx { for j in 0..<inner { flat.append((o * n + i) * inner + j) } } }
        return x.picking(flat, shape: Array(x.shape[0..<ax]) + indices.shape + Array(x.shape[(ax + 1)...]))
    }

    static func concat(_ xs: [Tensor], axis: Int) throws -> Tensor {
        guard let first = xs.first else { throw ONNXError("no inputs") }
        let ax = axis < 0 ? axis + first.rank : axis
        guard (0..<first.rank).contains(ax) else { throw ONNXError("axis \(axis) for rank \(first.rank)") }
        for t in xs where t.element != first.element || t.rank != first.rank
            || t.shape.enumerated().contains(where: { $0.offset != ax && $0.element != first.shape[$0.offset] }) {
            throw ONNXError("inputs \(xs.map(\.description)) do not concatenate on axis \(axis)")
        }
        let outer = first.shape[0..<ax].reduce(1, *)
        var floats: [Float] = [], ints: [Int64] = []
        for o in 0..<outer {
            for t in xs {
                let chunk = t.shape[ax...].reduce(1, *)
                if first.element.isFloat { floats += t.floats[o * chunk..<(o + 1) * chunk] } else { ints += t.ints[o * chunk..<(o + 1) * chunk] }
            }
        }
        var shape = first.shape
        shape[ax] = xs.map { $0.shape[ax] }.reduce(0, +)
        return first.element.isFloat ? Tensor(shape: shape, floats: floats) : Tensor(first.element, shape: shape, ints: ints)
    }

    static func unsqueeze(_ x: Tensor, axes: [Int]) throws -> Tensor {
        let rank = x.rank + axes.count
        let normalized = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        guard normalized.count == axes.count, normalized.allSatisfy({ (0..<rank).contains($0) }) else {
            throw ONNXError("axes \(axes) for an output of rank \(rank)")
        }
        var rest = x.shape.makeIterator()
        return x.reshaped((0..<rank).map { normalized.contains($0) ? 1 : rest.next()! })
    }
}
