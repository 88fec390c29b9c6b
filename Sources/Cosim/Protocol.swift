/// The host side of the binary protocol in Testbench/cosim_protocol.h.
enum Wire {
    static let magic: [UInt8] = Array("CSIM".utf8)
    static let version: UInt32 = 2

    static let poke = UInt8(ascii: "p")
    static let peek = UInt8(ascii: "g")
    static let eval = UInt8(ascii: "e")
    static let step = UInt8(ascii: "s")
    static let bulk = UInt8(ascii: "b")
    static let stream = UInt8(ascii: "S")
    static let sync = UInt8(ascii: "y")
    static let quit = UInt8(ascii: "q")

    /// Bytes a value of a port of this width takes on the wire: the natural
    /// Verilator storage size up to 64 bits, then whole 64-bit words.
    @inline(__always)
    static func bytes(_ width: Int) -> Int {
        width <= 8 ? 1 : width <= 16 ? 2 : width <= 32 ? 4 : 8 * ((width + 63) / 64)
    }
}

/// A row of ports in wire form: converts rows of 64-bit words (one word per
/// port up to 64 bits, ceil(width/64) words for wider ones) to and from the
/// packed bytes the driver reads and writes.
struct WireRow {
    let bytes: [Int]
    let words: [Int]
    let rowBytes: Int
    let rowWords: Int
    /// Every port travels as whole 64-bit words: the wire form is the word array.
    let wordAligned: Bool

    init(widths: [Int]) {
        bytes = widths.map(Wire.bytes)
        words = widths.map { ($0 + 63) / 64 }
        rowBytes = bytes.reduce(0, +)
        rowWords = words.reduce(0, +)
        wordAligned = widths.allSatisfy { $0 > 32 }
    }

    /// Writes `rows` rows from `values` (rows * rowWords words) at `offset`.
    func pack(_ values: UnsafeBufferPointer<UInt64>, rows: Int, into raw: UnsafeMutableRawBufferPointer, at offset: Int) {
        precondition(values.count >= rows * rowWords && raw.count >= offset + rows * rowBytes)
        if wordAligned {
            for i in 0..<rows * rowWords {
                raw.storeBytes(of: values[i].littleEndian, toByteOffset: offset + 8 * i, as: UInt64.self)
            }
            return
        }
        var o = offset
        var vi = 0
        for _ in 0..<rows {
            for (b, w) in zip(bytes, words) {
                switch b {
                case 1: raw[o] = UInt8(truncatingIfNeeded: values[vi])
                case 2: raw.storeBytes(of: UInt16(truncatingIfNeeded: values[vi]).littleEndian, toByteOffset: o, as: UInt16.self)
                case 4: raw.storeBytes(of: UInt32(truncatingIfNeeded: values[vi]).littleEndian, toByteOffset: o, as: UInt32.self)
                default:
                    for k in 0..<w {
                        raw.storeBytes(of: values[vi + k].littleEndian, toByteOffset: o + 8 * k, as: UInt64.self)
                    }
                }
                o += b
                vi += w
            }
        }
    }

    /// Reads `rows` rows in wire form at `offset` into words.
    func unpack(_ raw: UnsafeRawBufferPointer, at offset: Int, rows: Int) -> [UInt64] {
        let n = rows * rowWords
        precondition(raw.count >= offset + rows * rowBytes)
        return [UInt64](unsafeUninitializedCapacity: n) { buf, count in
            if wordAligned {
                for i in 0..<n {
                    buf[i] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self))
                }
                count = n
                return
            }
            var o = offset
            var wi = 0
            for _ in 0..<rows {
                for (b, w) in zip(bytes, words) {
                    switch b {
                    case 1: buf[wi] = UInt64(raw[o])
                    case 2: buf[wi] = UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
                    case 4: buf[wi] = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                    default:
                        for k in 0..<w {
                            buf[wi + k] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 8 * k, as: UInt64.self))
                        }
                    }
                    o += b
                    wi += w
                }
            }
            count = n
        }
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
