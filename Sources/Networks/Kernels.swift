/// The few dense loops training spends its time in, on raw pointers (no bounds checks in the
/// inner loops). Every sum runs in one fixed order, so a seed gives bit-identical weights.

/// `c[m×n] (+)= a[m×k] · b[k×n]`, all row-major and contiguous. Each element of c sums its k
/// products in ascending k (so the result does not depend on the blocking). The inner loop is
/// an axpy over a row of b (it vectorizes without reassociating a reduction); four rows of c
/// share each row of b, and columns go in blocks of 256 so a panel of b stays in cache.
/// Float for training; Double for the exact integer products of `ExactGEMM`. Specialized for
/// both here: a debug build compiles file by file, and an unspecialized generic loop is slow.
@_specialize(where T == Float)
@_specialize(where T == Double)
func gemm<T: BinaryFloatingPoint>(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
                                  _ c: UnsafeMutablePointer<T>, accumulate: Bool) {
    if !accumulate { c.update(repeating: 0, count: m * n) }
    let block = 256
    var n0 = 0
    while n0 < n {
        let w = min(block, n - n0)
        var i = 0
        while i + 4 <= m {
            let c0 = c + i * n + n0, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n
            let a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
            for p in 0..<k {
                let x0 = a0[p], x1 = a1[p], x2 = a2[p], x3 = a3[p]
                // Activations after ReLU and their gradients are often zero.
                if x0 == 0 && x1 == 0 && x2 == 0 && x3 == 0 { continue }
                let bp = b + p * n + n0
                for j in 0..<w {
                    let y = bp[j]
                    c0[j] += x0 * y
                    c1[j] += x1 * y
                    c2[j] += x2 * y
                    c3[j] += x3 * y
                }
            }
            i += 4
        }
        while i < m {
            let c0 = c + i * n + n0, a0 = a + i * k
            for p in 0..<k {
                let x0 = a0[p]
                if x0 == 0 { continue }
                let bp = b + p * n + n0
                for j in 0..<w { c0[j] += x0 * bp[j] }
            }
            i += 1
        }
        n0 += block
    }
}

/// `t[cols×rows] = x[rows×cols]ᵀ`.
@_specialize(where T == Float)
@_specialize(where T == Double)
func transpose<T>(_ rows: Int, _ cols: Int, _ x: UnsafePointer<T>, _ t: UnsafeMutablePointer<T>) {
    for r in 0..<rows {
        let xr = x + r * cols
        for c in 0..<cols { t[c * rows + r] = xr[c] }
    }
}

/// Unfolds one C×H×W image for a k×k convolution (stride u, zero padding p on every side) into
/// the matrix `cols[(c·k + r)·k + s][e·F + f] = x[c][e·u + r − p][f·u + s − p]` (zero outside
/// the image), so the convolution is one GEMM with the M×(C·k·k) weights (MCRS order).
func im2col(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, size k: Int, stride u: Int, padding p: Int = 0,
            _ cols: UnsafeMutablePointer<Float>) {
    let e = (height + 2 * p - k) / u + 1, f = (width + 2 * p - k) / u + 1
    var row = cols
    for c in 0..<channels {
        for r in 0..<k {
            for s in 0..<k {
                for y in 0..<e {
                    let dst = row + y * f
                    let iy = y * u + r - p
                    if iy < 0 || iy >= height {
                        dst.update(repeating: 0, count: f)
                        continue
                    }
                    let src = x + (c * height + iy) * width
                    if p == 0 {
                        for xx in 0..<f { dst[xx] = src[xx * u + s] }
                    } else {
                        for xx in 0..<f {
                            let ix = xx * u + s - p
                            dst[xx] = ix >= 0 && ix < width ? src[ix] : 0
                        }
                    }
                }
                row += e * f
            }
        }
    }
}

/// The adjoint of `im2col`: adds each column entry back to the pixel it came from (entries of
/// the padding go nowhere).
func col2im(_ cols: UnsafePointer<Float>, channels: Int, height: Int, width: Int, size k: Int, stride u: Int, padding p: Int = 0,
            _ x: UnsafeMutablePointer<Float>) {
    let e = (height + 2 * p - k) / u + 1, f = (width + 2 * p - k) / u + 1
    x.update(repeating: 0, count: channels * height * width)
    var row = cols
    for c in 0..<channels {
        for r in 0..<k {
            for s in 0..<k {
                for y in 0..<e {
                    let iy = y * u + r - p
                    if iy >= 0 && iy < height {
                        let dst = x + (c * height + iy) * width
                        let src = row + y * f
                        for xx in 0..<f {
                            let ix = xx * u + s - p
                            if ix >= 0 && ix < width { dst[ix] += src[xx] }
                        }
                    }
                }
                row += e * f
            }
        }
    }
}

extension Array where Element == Float {
    /// Grows (never shrinks) to `n` elements, so buffers are reused from batch to batch.
    mutating func ensure(_ n: Int) {
        if count < n { append(contentsOf: repeatElement(0, count: n - count)) }
    }
}
