import Foundation

/// The accelerator's AXI4-Lite registers, described once as data. The generator decodes
/// addresses from it, and it is emitted as SystemRDL (`accel_regs.rdl`), a C header
/// (`accel_regs.h`) and the manifest's `registers`.
public struct RegisterMap: Encodable, Sendable {
    public enum Access: String, Encodable, Sendable {
        /// Read and written by the host.
        case readWrite = "rw"
        /// Set by the hardware; writes are ignored.
        case readOnly = "ro"
        /// Set by the hardware; the host clears it by writing 1.
        case writeOneToClear = "w1c"
        /// A write of 1 triggers an action; reads 0.
        case writeOnePulse = "w1p"
    }

    public struct Field: Encodable, Sendable {
        public let name: String
        public let lo: Int
        public let bits: Int
        public let access: Access
        public let description: String
    }

    public struct Register: Encodable, Sendable {
        public let name: String
        public let offset: Int
        public let description: String
        public let fields: [Field]
    }

    public let name: String
    public let addressBits: Int
    public let dataBits: Int
    public let registers: [Register]

    public subscript(_ name: String) -> Register {
        guard let r = registers.first(where: { $0.name == name }) else { preconditionFailure("no register \(name)") }
        return r
    }

    /// The map of `config` (the hardware-configuration registers' fields are the same for every
    /// configuration; their values are the configuration's).
    public static func accelerator(_ config: AcceleratorConfig) -> RegisterMap {
        func whole(_ name: String, _ access: Access, _ description: String) -> [Field] {
            [Field(name: name, lo: 0, bits: 32, access: access, description: description)]
        }
        var regs: [Register] = []
        func reg(_ name: String, _ description: String, _ fields: [Field]) {
            regs.append(Register(name: name, offset: regs.count * 4, description: description, fields: fields))
        }
        reg("CTRL", "Control", [
            Field(name: "start", lo: 0, bits: 1, access: .writeOnePulse, description: "Run the program from PROG_BASE: clears STATUS.done and STATUS.error, the counters and the PC."),
            Field(name: "soft_reset", lo: 1, bits: 1, access: .writeOnePulse, description: "Stop at the next AXI burst boundary, wait for every outstanding AXI response, then reset the controller, the array, the counters and STATUS; keeps the other registers."),
            Field(name: "irq_enable", lo: 2, bits: 1, access: .readWrite, description: "irq is high while STATUS.done or STATUS.error is set."),
        ])
        reg("STATUS", "Status", [
            Field(name: "busy", lo: 0, bits: 1, access: .readOnly, description: "A program is running (or a soft reset is draining)."),
            Field(name: "done", lo: 1, bits: 1, access: .writeOneToClear, description: "FINISH was reached."),
            Field(name: "error", lo: 2, bits: 1, access: .readOnly, description: "The program stopped on an error (cleared by start or soft reset)."),
            Field(name: "error_code", lo: 8, bits: 4, access: .readOnly, description: "Which error (docs/ACCELERATOR.md): " + AcceleratorError.allCases.map { "\($0.rawValue) \($0)" }.joined(separator: ", ") + "."),
        ])
        reg("PROG_BASE_LO", "Program address, bits 31:0 (a multiple of 16)", whole("addr", .readWrite, "Low half."))
        reg("PROG_BASE_HI", "Program address, bits 63:32", whole("addr", .readWrite, "High half."))
        reg("PROG_LEN", "Program length in instructions", whole("length", .readWrite, "Instructions; the PC reaching it without FINISH is error 8."))
        reg("PC", "Program counter", whole("pc", .readOnly, "Index of the instruction being fetched or run (at FINISH or an error: that instruction)."))
        reg("WINDOW_BASE_LO", "DRAM window base, bits 31:0", whole("addr", .readWrite, "Low half."))
        reg("WINDOW_BASE_HI", "DRAM window base, bits 63:32", whole("addr", .readWrite, "High half."))
        reg("WINDOW_SIZE_LO", "DRAM window size in bytes, bits 31:0", whole("size", .readWrite, "Low half; every AXI access must lie in [base, base + size)."))
        reg("WINDOW_SIZE_HI", "DRAM window size in bytes, bits 63:32", whole("size", .readWrite, "High half."))
        reg("CYCLES_LO", "Cycles since start, bits 31:0", whole("count", .readOnly, "Counts while busy."))
        reg("CYCLES_HI", "Cycles since start, bits 63:32", whole("count", .readOnly, "High half."))
        reg("COMPUTE_CYCLES", "Cycles the array took a beat", whole("count", .readOnly, "Counts while busy."))
        reg("STALL_CYCLES", "Cycles stalled on memory", whole("count", .readOnly, "Busy cycles spent fetching, loading or storing while the array took no beat."))
        reg("DMA_READ_BYTES", "Bytes read over AXI", whole("count", .readOnly, "Instruction fetches included."))
        reg("DMA_WRITE_BYTES", "Bytes written over AXI", whole("count", .readOnly, "STORE data."))
        reg("HW_ARRAY", "Hardware configuration: the array", [
            Field(name: "rows", lo: 0, bits: 8, access: .readOnly, description: "R (\(config.array.rows))."),
            Field(name: "cols", lo: 8, bits: 8, access: .readOnly, description: "C (\(config.array.cols))."),
            Field(name: "a_bits", lo: 16, bits: 5, access: .readOnly, description: "Bits of an A code (\(config.array.aCode.width))."),
            Field(name: "b_bits", lo: 21, bits: 5, access: .readOnly, description: "Bits of a B code (\(config.array.bCode.width))."),
            Field(name: "out_bits", lo: 26, bits: 6, access: .readOnly, description: "Bits of an output (\(config.array.outputCode.width))."),
        ])
        reg("HW_BUFFERS", "Hardware configuration: buffers and bus", [
            Field(name: "log2_a_rows", lo: 0, bits: 5, access: .readOnly, description: "log2 of bank A's rows (\(config.depth(.a)))."),
            Field(name: "log2_b_rows", lo: 5, bits: 5, access: .readOnly, description: "log2 of bank B's rows (\(config.depth(.b)))."),
            Field(name: "log2_c_rows", lo: 10, bits: 5, access: .readOnly, description: "log2 of bank C's rows (\(config.depth(.c)))."),
            Field(name: "data_bytes", lo: 16, bits: 8, access: .readOnly, description: "AXI data bytes per beat (\(config.beatBytes))."),
            Field(name: "address_bits", lo: 24, bits: 7, access: .readOnly, description: "AXI address bits (\(config.addressBits))."),
        ])
        reg("HW_FORMAT", "Hardware configuration: arithmetic", [
            Field(name: "drop_bits", lo: 0, bits: 8, access: .readOnly, description: "D, the largest CONFIG shift (\(config.array.dropBits))."),
            Field(name: "stochastic", lo: 8, bits: 1, access: .readOnly, description: "Rounding is stochastic (\(config.array.rounding == .stochastic ? 1 : 0))."),
        ])
        return RegisterMap(name: "accel_regs", addressBits: 12, dataBits: 32, registers: regs)
    }

    /// The read-only values of the hardware-configuration registers.
    public static func hardwareValues(_ c: AcceleratorConfig) -> [String: UInt32] {
        let a = c.array
        return [
            "HW_ARRAY": UInt32(a.rows) | UInt32(a.cols) << 8 | UInt32(a.aCode.width) << 16 | UInt32(a.bCode.width) << 21 | UInt32(a.outputCode.width) << 26,
            "HW_BUFFERS": UInt32(c.depth(.a).trailingZeroBitCount) | UInt32(c.depth(.b).trailingZeroBitCount) << 5
                | UInt32(c.depth(.c).trailingZeroBitCount) << 10 | UInt32(c.beatBytes) << 16 | UInt32(c.addressBits) << 24,
            "HW_FORMAT": UInt32(a.dropBits) | (a.rounding == .stochastic ? 1 << 8 : 0),
        ]
    }

    // MARK: Emitted forms

    /// SystemRDL 2.0.
    public var systemRDL: String {
        func access(_ a: Access) -> String {
            switch a {
            case .readWrite: "sw = rw; hw = r; reset = 0;"
            case .readOnly: "sw = r; hw = w;"
            case .writeOneToClear: "sw = rw; hw = w; onwrite = woclr; reset = 0;"
            case .writeOnePulse: "sw = w; hw = r; singlepulse; reset = 0;"
            }
        }
        func quoted(_ s: String) -> String { s.replacingOccurrences(of: "\"", with: "'") }
        var out = "// Generated by AccelGen from the accelerator's register map (Sources/Accelerator/RegisterMap.swift).\n"
        out += "addrmap \(name) {\n    default regwidth = \(dataBits);\n"
        for r in registers {
            out += "    reg {\n        desc = \"\(quoted(r.description))\";\n"
            for f in r.fields {
                out += "        field { \(access(f.access)) desc = \"\(quoted(f.description))\"; } \(f.name.lowercased())[\(f.lo + f.bits - 1):\(f.lo)];\n"
            }
            out += "    } \(r.name.lowercased()) @ 0x\(String(r.offset, radix: 16, uppercase: true));\n"
        }
        return out + "};\n"
    }

    /// A C header: each register's offset, and each field's bit position and mask.
    public var cHeader: String {
        let guardName = name.uppercased() + "_H"
        let prefix = name.uppercased()
        var out = "/* Generated by AccelGen from the accelerator's register map. */\n#ifndef \(guardName)\n#define \(guardName)\n\n"
        for r in registers {
            out += "/* \(r.description) */\n#define \(prefix)_\(r.name)_OFFSET 0x\(String(r.offset, radix: 16, uppercase: true))u\n"
            for f in r.fields {
                let mask = ((UInt64(1) << UInt64(f.bits)) - 1) << UInt64(f.lo)
                out += "#define \(prefix)_\(r.name)_\(f.name.uppercased())_LSB \(f.lo)u\n"
                out += "#define \(prefix)_\(r.name)_\(f.name.uppercased())_WIDTH \(f.bits)u\n"
                out += "#define \(prefix)_\(r.name)_\(f.name.uppercased())_MASK 0x\(String(mask, radix: 16, uppercase: true))u\n"
            }
            out += "\n"
        }
        return out + "#endif\n"
    }
}
