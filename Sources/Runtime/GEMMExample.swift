import Accelerator
import Cores
import Foundation
import Golden
import Model

/// A GEMM for running the accelerator in someone else's flow (Testbench/cocotb): random
/// operand codes from a seed, the program and DRAM image `GEMMProgram` compiles, and C as the
/// golden model computes it (never the hardware), written as one JSON file beside the Verilog
/// (`generate-rtl accelerator --example-gemm MxKxN`). docs/ACCELERATOR.md describes the fields.
public struct GEMMExample: Sendable {
    public static let fileName = "example_gemm.json"
    /// The largest M and N the flag takes (the file holds every code as a JSON number).
    public static let sides = 1...1024

    public let a: Matrix<Int128>
    public let b: Matrix<Int128>
    /// C in codes of the output format, from `SystolicModel`.
    public let expected: Matrix<Int128>
    public let program: GEMMProgram
    public let seed: UInt64
    let config: AcceleratorConfig

    /// The largest K the compiler takes for `config` (one GEMM per tile, K rows in banks A and B).
    public static func maxK(_ config: AcceleratorConfig) -> Int {
        min(config.depth(.a), config.depth(.b), 65535)
    }

    public init(m: Int, k: Int, n: Int, seed: UInt64, config c: AcceleratorConfig) throws {
        let codes = c.array.operandCodes()
        var g = SplitMix64(seed: seed)
        a = Matrix(rows: m, cols: k) { _, _ in Int128.random(in: codes.a.codes, using: &g) }
        b = Matrix(rows: k, cols: n) { _, _ in Int128.random(in: codes.b.codes, using: &g) }
        program = try GEMMProgram(a: a, b: b, config: c)
        // The program's CONFIG restarts the LFSRs and leaves the shift at its reset value: the
        // model as constructed.
        var model = SystolicModel(rows: c.array.rows, cols: c.array.cols, a: c.array.a.golden, b: c.array.b.golden,
                                  accBits: c.array.accBits, output: c.array.output.golden, mode: c.array.rounding,
                                  lfsrWidth: c.array.lfsrWidth, seed: c.array.seed, draw: c.array.lfsrStep)
        expected = model.gemm(a: Matrix(rows: m, cols: k, elements: a.elements.map(codes.a.value)),
                              b: Matrix(rows: k, cols: n, elements: b.elements.map(codes.b.value))).c
        self.seed = seed
        config = c
    }

    /// The file's fields (snake case, for Python and C readers).
    struct File: Encodable {
        struct Region: Encodable { let address: UInt64; let hex: String }
        struct Output: Encodable {
            let base: UInt64
            let row_stride_bytes: Int
            let chunk_bytes: Int
            let values_per_chunk: Int
            let value_bits: Int
            let signed: Bool
        }
        let m: Int, k: Int, n: Int, seed: UInt64
        let program_base: UInt64
        let program_instructions: Int
        let window_base: UInt64
        let window_size: UInt64
        let dram: [Region]
        let output: Output
        let a: [[Int]], b: [[Int]], c: [[Int]]
    }

    /// The JSON text: the DRAM regions in hex, where C lands (output row i, column j is field
    /// j mod `values_per_chunk` of the `chunk_bytes` at base + i·row_stride_bytes +
    /// (j div values_per_chunk)·chunk_bytes, little-endian), and A, B and C as codes.
    public var json: String {
        func rows(_ x: Matrix<Int128>) -> [[Int]] { (0..<x.rows).map { i in (0..<x.cols).map { Int(x[i, $0]) } } }
        let p = program
        let file = File(
            m: p.m, k: p.k, n: p.n, seed: seed, program_base: p.programBase, program_instructions: p.program.count,
            window_base: p.window.lowerBound, window_size: p.window.upperBound - p.window.lowerBound,
            dram: p.image.map { .init(address: $0.address, hex: $0.bytes.map { String(format: "%02x", $0) }.joined()) },
            output: .init(base: p.outputBase, row_stride_bytes: p.outputRowStride, chunk_bytes: config.rowBytes(.c),
                          values_per_chunk: config.array.cols, value_bits: config.array.outputCode.width,
                          signed: config.array.outputCode.isSigned),
            a: rows(a), b: rows(b), c: rows(expected))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(file), as: UTF8.self) + "\n"
    }
}
