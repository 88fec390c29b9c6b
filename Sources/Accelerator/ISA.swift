/// The accelerator's instruction set (docs/ACCELERATOR.md): 16-byte instructions, two
/// little-endian 64-bit words, executed in order. Fields are declared once here: the encoder
/// below, the generator's decoder and the documentation's tables all read them.
public enum ISA {
    public static let instructionBytes = 16

    public enum Opcode: Int, CaseIterable, Sendable {
        case load = 1, store = 2, gemm = 3, config = 4, finish = 5, output = 6
    }

    /// A bit field of the 128-bit instruction (bit 64 is bit 0 of the second word).
    public struct Field: Sendable {
        public let name: String
        public let lo: Int
        public let bits: Int
        public let meaning: String
    }

    public static let opcode = Field(name: "opcode", lo: 0, bits: 4, meaning: "1 LOAD, 2 STORE, 3 GEMM, 4 CONFIG, 5 FINISH, 6 OUTPUT; anything else is error 1")

    /// LOAD (DRAM → bank A, B or C) and STORE (bank C → DRAM): `rows` rows of the bank, row r at
    /// DRAM address `dram + r·stride`, each padded to whole AXI beats in DRAM.
    public enum Transfer {
        public static let bank = Field(name: "bank", lo: 4, bits: 4, meaning: "LOAD: 0 bank A, 1 bank B, 2 bank C (biases for OUTPUT; else error 7); STORE: must be 2, bank C")
        public static let row = Field(name: "row", lo: 8, bits: 16, meaning: "first bank row")
        public static let rows = Field(name: "rows", lo: 24, bits: 16, meaning: "rows to move, 1 or more; row + rows ≤ bank depth (else error 3)")
        public static let stride = Field(name: "stride", lo: 40, bits: 24, meaning: "bytes from one row's start in DRAM to the next's, a multiple of the AXI beat (else error 6)")
        public static let dram = Field(name: "dram", lo: 64, bits: 64, meaning: "DRAM address of row 0, a multiple of the AXI beat; every byte moved inside the DRAM window (else error 2)")
        public static let fields = [bank, row, rows, stride, dram]
    }

    /// GEMM: K beats into the array (row a + k of bank A, row b + k of bank B, `a_last` on the
    /// K-th); the tile's R rounded rows land in bank C at rows c...c + R - 1.
    public enum GEMM {
        public static let a = Field(name: "a", lo: 8, bits: 16, meaning: "first row of bank A")
        public static let k = Field(name: "k", lo: 24, bits: 16, meaning: "K, 1 or more; a + K, b + K ≤ their banks' depths (else error 3)")
        public static let b = Field(name: "b", lo: 40, bits: 16, meaning: "first row of bank B")
        public static let c = Field(name: "c", lo: 64, bits: 16, meaning: "first row of bank C; c + R ≤ its depth (else error 3)")
        public static let fields = [a, k, b, c]
    }

    /// CONFIG: waits until every tile in flight is in bank C, then applies its flags.
    public enum Config {
        public static let setShift = Field(name: "set_shift", lo: 4, bits: 1, meaning: "1: the ROUND units drop `shift` bits from now on")
        public static let reseed = Field(name: "reseed", lo: 5, bits: 1, meaning: "1: restart the array, so every ROUND unit's LFSR starts again from its seed")
        public static let shift = Field(name: "shift", lo: 8, bits: 8, meaning: "0...D, the bits dropped (D: the array's static shift; more is error 7)")
        public static let fields = [setShift, reseed, shift]
    }

    /// OUTPUT: the post-processing of a layer's results, bank C row by row (after every tile in
    /// flight has landed): each lane plus its bias (the same lane of a bias row), saturated to
    /// the output width, ReLU, and for `to_a` saturated to the A code width; the row is written
    /// back in place (narrowed codes packed from bit 0) and, for `to_a`, transposed into bank A
    /// (lane j of row i into lane 0 of bank A row `a + i·C + j`, the other lanes zero): the next
    /// dense layer's operand, one activation per beat.
    public enum Output {
        public static let relu = Field(name: "relu", lo: 4, bits: 1, meaning: "1: negative results become 0")
        public static let toA = Field(name: "to_a", lo: 5, bits: 1, meaning: "1: saturate to the A code width and transpose into bank A")
        public static let useBias = Field(name: "use_bias", lo: 6, bits: 1, meaning: "1: add the bias rows; 0: no bias")
        public static let c = Field(name: "c", lo: 8, bits: 16, meaning: "first row of bank C")
        public static let rows = Field(name: "rows", lo: 24, bits: 16, meaning: "rows, 1 or more; c + rows ≤ bank C's depth (else error 3)")
        public static let bias = Field(name: "bias", lo: 40, bits: 16, meaning: "bank C row of row c's biases; with use_bias, bias + rows ≤ bank C's depth (else error 3)")
        public static let a = Field(name: "a", lo: 64, bits: 16, meaning: "with to_a, first row of bank A written; a + rows·C ≤ bank A's depth (else error 3)")
        public static let fields = [relu, toA, useBias, c, rows, bias, a]
    }

    /// The instructions a program is made of.
    public enum Instruction: Hashable, Sendable {
        case load(bank: Int, row: Int, rows: Int, stride: Int, dram: UInt64)
        case store(row: Int, rows: Int, stride: Int, dram: UInt64)
        case gemm(a: Int, b: Int, k: Int, c: Int)
        case config(shift: Int?, reseed: Bool)
        case finish
        case output(c: Int, rows: Int, bias: Int?, a: Int?, relu: Bool)
        /// An arbitrary opcode (for tests of error 1).
        case raw(opcode: Int)

        /// The two little-endian words.
        public var words: [UInt64] {
            var bits: (UInt64, UInt64) = (0, 0)
            func put(_ f: Field, _ v: UInt64) {
                let mask: UInt64 = f.bits == 64 ? ~0 : (1 << UInt64(f.bits)) - 1
                precondition(v & ~mask == 0, "\(f.name) \(v) does not fit \(f.bits) bits")
                if f.lo >= 64 { bits.1 |= v << UInt64(f.lo - 64) } else { bits.0 |= v << UInt64(f.lo) }
            }
            func put(_ f: Field, _ v: Int) { put(f, UInt64(v)) }
            switch self {
            case let .load(bank, row, rows, stride, dram):
                put(opcode, Opcode.load.rawValue)
                put(Transfer.bank, bank); put(Transfer.row, row); put(Transfer.rows, rows); put(Transfer.stride, stride); put(Transfer.dram, dram)
            case let .store(row, rows, stride, dram):
                put(opcode, Opcode.store.rawValue)
                put(Transfer.bank, AcceleratorConfig.Bank.c.rawValue); put(Transfer.row, row); put(Transfer.rows, rows)
                put(Transfer.stride, stride); put(Transfer.dram, dram)
            case let .gemm(a, b, k, c):
                put(opcode, Opcode.gemm.rawValue)
                put(GEMM.a, a); put(GEMM.b, b); put(GEMM.k, k); put(GEMM.c, c)
            case let .config(shift, reseed):
                put(opcode, Opcode.config.rawValue)
                if let shift { put(Config.setShift, 1); put(Config.shift, shift) }
                if reseed { put(Config.reseed, 1) }
            case .finish:
                put(opcode, Opcode.finish.rawValue)
            case let .output(c, rows, bias, a, relu):
                put(opcode, Opcode.output.rawValue)
                put(Output.c, c); put(Output.rows, rows)
                if let bias { put(Output.useBias, 1); put(Output.bias, bias) }
                if let a { put(Output.toA, 1); put(Output.a, a) }
                if relu { put(Output.relu, 1) }
            case let .raw(op):
                put(opcode, op)
            }
            return [bits.0, bits.1]
        }
    }

    /// A program's bytes, as the controller fetches them.
    public static func bytes(_ program: [Instruction]) -> [UInt8] {
        program.flatMap { $0.words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } } }
    }
}

/// STATUS.error_code values (docs/ACCELERATOR.md, Errors).
public enum AcceleratorError: Int, CaseIterable, Sendable {
    case badOpcode = 1
    case outsideWindow = 2
    case tooLarge = 3
    case axiRead = 4
    case axiWrite = 5
    case misaligned = 6
    case badOperand = 7
    case programEnd = 8

    public var meaning: String {
        switch self {
        case .badOpcode: "an opcode that is none of LOAD, STORE, GEMM, CONFIG, FINISH, OUTPUT"
        case .outsideWindow: "an instruction fetch, LOAD or STORE would touch a byte outside the DRAM window (or past the address width)"
        case .tooLarge: "a tile larger than its buffer: rows past a bank's depth (OUTPUT's bias rows and bank A rows too), or zero rows or K"
        case .axiRead: "an AXI read answered SLVERR or DECERR (instruction fetch or LOAD)"
        case .axiWrite: "an AXI write answered SLVERR or DECERR (STORE)"
        case .misaligned: "a DRAM address, stride or program base that is not a multiple of the AXI beat (program base: of 16)"
        case .badOperand: "a LOAD bank other than A, B or C, a STORE bank other than C, or a CONFIG shift above D"
        case .programEnd: "the program counter reached the program length without a FINISH"
        }
    }
}
