/// The host side of the binary protocol in Testbench/cosim_protocol.h.
enum Wire {
    static let magic: [UInt8] = Array("CSIM".utf8)
    static let version: UInt32 = 1

    static let poke = UInt8(ascii: "p")
    static let peek = UInt8(ascii: "g")
    static let eval = UInt8(ascii: "e")
    static let step = UInt8(ascii: "s")
    static let bulk = UInt8(ascii: "b")
    static let sync = UInt8(ascii: "y")
    static let quit = UInt8(ascii: "q")

    /// Bytes a value of a port of this width takes on the wire: the natural
    /// Verilator storage size up to 64 bits, then whole 64-bit words.
    @inline(__always)
    static func bytes(_ width: Int) -> Int {
        width <= 8 ? 1 : width <= 16 ? 2 : width <= 32 ? 4 : 8 * ((width + 63) / 64)
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
