import Cores
import Cosim
import Foundation
import HDL
import Runtime
import Verilog

/// Formal proofs of the cores (docs/VERIFICATION.md, "Formal proofs"), with yosys-smtbmc and
/// z3: each property is a checker module written here beside the generator's interface (its
/// ports come from the core's `Interface`), wrapped around the generated Verilog. The checker
/// assumes a reset in the first cycle only, so the proof covers every input sequence, resets
/// at any time included, from any power-up state of the design's registers.
public enum Formal {
    public struct Proof: Sendable, CustomStringConvertible {
        public let name: String
        /// Cycles of the bounded proof (from reset).
        public let depth: Int
        /// Whether k-induction at `depth` closed too: then the property holds at every depth.
        public let induction: Bool
        public let passed: Bool
        /// The solver's last lines (the failing step and a counterexample trace's path when it failed).
        public let log: String
        public var description: String {
            "\(name): \(passed ? "proved" : "FAILED") (\(induction ? "k-induction, k = \(depth)" : "bounded, \(depth) cycles from reset"))"
        }
    }

    /// The FIFO neither loses nor duplicates nor reorders a word, under any valid/ready pattern
    /// and resets: the checker writes 0, 1, 2, ... (mod 2^width) and every word read must be the
    /// next expected one; it never holds more than its depth; and a word offered on `out` stays
    /// put while it is not taken.
    /// `design` replaces the generated FIFO (a test that the proof can fail).
    public static func fifo(_ c: FIFOConfig, depth: Int = 12, induction: Bool = false, design: ModuleDefinition? = nil) throws -> Proof {
        let io = FIFO.Interface(c)
        let top = try design ?? FIFO.module(c)
        let w = c.width
        let checker = """
        module formal_check (input wire clk, input wire rst, input wire in_valid, input wire out_ready);
            wire in_ready, out_valid;
            wire [\(w - 1):0] out_data;
            reg  [\(w - 1):0] written, read;
            \(top.name) dut (.clk(clk), .rst(rst), .\(io.inValid.name)(in_valid), .\(io.inData.name)(written),
                .\(io.outReady.name)(out_ready), .\(io.inReady.name)(in_ready), .\(io.outValid.name)(out_valid), .\(io.outData.name)(out_data));
            always @(posedge clk) begin
                written <= rst ? 0 : written + (in_valid && in_ready);
                read <= rst ? 0 : read + (out_valid && out_ready);
            end
            reg stalled = 1'b0;
            reg [\(w - 1):0] stalled_data;
            always @(posedge clk) begin
                stalled <= !rst && out_valid && !out_ready;
                stalled_data <= out_data;
            end
            initial assume(rst);
            always @* begin
                if (!rst && out_valid) assert(out_data == read);
                if (!rst) assert(written - read <= \(c.depth));
                if (!rst && stalled) assert(out_valid && out_data == stalled_data);
            end
        endmodule
        """
        return try prove("fifo w\(w) d\(c.depth): no loss, duplication or reordering; stable while stalled", design: top,
                         checker: checker, depth: depth, induction: induction)
    }

    /// The ROUND unit (fixed shift) never leaves its output range, and rounds to the floor of
    /// x / 2^D or one above it (exactly the floor when truncating), saturated: so it saturates
    /// exactly when the rounded value is out of range, as docs/ARITHMETIC.md's rule says.
    /// `checkingAs` checks the unit against another mode's rule (a test that the proof can fail).
    public static func rounder(_ c: RounderConfig, depth: Int = 6, induction: Bool = true, checkingAs: RoundingMode? = nil) throws -> Proof {
        precondition(!c.dynamicShift && c.input.bits <= 60, "a fixed shift and at most 60 input bits")
        let io = Rounder.Interface(c)
        let top = try Rounder.module(c)
        let (wi, wo, d) = (c.input.bits, c.output.bits, c.dropBits)
        let (lo, hi) = (c.output.shape.minValue, c.output.shape.maxValue)
        func widen(_ name: String, _ bits: Int, signed: Bool) -> String {
            signed ? "$signed(\(name))" : "$signed({1'b0, \(name)})"
        }
        let checker = """
        module formal_check (input wire clk, input wire rst, input wire in_valid, input wire [\(wi - 1):0] x);
            wire out_valid;
            wire [\(wo - 1):0] y;
            \(top.name) dut (.clk(clk), .rst(rst), .\(io.inValid.name)(in_valid), .\(io.x.name)(x), .\(io.outValid.name)(out_valid), .\(io.y.name)(y));
            reg [\(wi - 1):0] x_q;
            reg taken = 1'b0;
            always @(posedge clk) begin
                taken <= !rst && in_valid;
                if (in_valid) x_q <= x;
            end
            wire signed [63:0] exact = \(widen("x_q", wi, signed: c.input.signed));
            wire signed [63:0] floor = exact >>> \(d);
            wire signed [63:0] up = floor + 64'sd1;
            wire signed [63:0] got = \(widen("y", wo, signed: c.output.signed));
            wire signed [63:0] low = \(lo < 0 ? "-64'sd\(-lo)" : "64'sd\(lo)"), high = 64'sd\(hi);
            wire signed [63:0] floor_sat = floor > high ? high : (floor < low ? low : floor);
            wire signed [63:0] up_sat = up > high ? high : (up < low ? low : up);
            initial assume(rst);
            always @* if (taken) begin
                assert(got >= low && got <= high);
                assert(got == floor_sat || got == up_sat);
                \((checkingAs ?? c.rounding) == .truncate ? "assert(got == floor_sat);" : "")
                if (floor >= high) assert(got == high);
                if (up <= low) assert(got == low);
            end
        endmodule
        """
        return try prove("round \(c.input) to \(c.output) \(c.rounding): in range, floor or one above, saturated", design: top,
                         checker: checker, depth: depth, induction: induction)
    }

    /// The systolic array's C stream keeps its payload (`c_data`, `c_last`) while `c_valid` is
    /// high and `c_ready` low, whatever is streamed in.
    /// `depth` must exceed the array's latency (`lastBeatToFirstRow` plus a beat), or no C
    /// word is ever stalled within the bound.
    public static func systolicOutputStable(_ c: ArrayConfig, depth: Int = 16) throws -> Proof {
        let io = Systolic.Interface(c)
        let top = try Systolic.module(c)
        // Every input free (the elaborated module's ports: the streams, and whatever the
        // configuration adds); every output declared.
        let inputs = top.ports.filter { $0.direction == .input && $0.name != "clk" && $0.name != "rst" }
        let outputs = top.ports.filter { $0.direction == .output }
        func range(_ p: HDL.Port) -> String { p.shape.width == 1 ? "" : "[\(p.shape.width - 1):0] " }
        let ports = inputs.map { "input wire \(range($0))\($0.name)" }.joined(separator: ", ")
        let declarations = outputs.map { "    wire \(range($0))\($0.name);" }.joined(separator: "\n")
        let connections = (inputs + outputs).map { ".\($0.name)(\($0.name))" }.joined(separator: ", ")
        let (data, last) = (io.c.data!, io.c.last!)
        let checker = """
        module formal_check (input wire clk, input wire rst, \(ports));
        \(declarations)
            \(top.name) dut (.clk(clk), .rst(rst), \(connections));
            reg stalled = 1'b0, stalled_last;
            reg \(range(data))stalled_data;
            always @(posedge clk) begin
                stalled <= !rst && \(io.c.valid.name) && !\(io.c.ready!.name);
                stalled_data <= \(data.name);
                stalled_last <= \(last.name);
            end
            initial assume(rst);
            always @* if (!rst && stalled) assert(\(io.c.valid.name) && \(data.name) == stalled_data && \(last.name) == stalled_last);
        endmodule
        """
        return try prove("systolic \(c.rows)x\(c.cols): C stable while stalled", design: top, checker: checker, depth: depth, induction: false)
    }

    /// The systolic array's PE equals a reference multiply-accumulate written here: from its
    /// first restart on, every result it captures is the sum of the products since the restart
    /// before (two's complement, accumulator bits), and the operands pass on one cycle later.
    /// Fixed point only (the other formats' products have their own checks in co-simulation).
    public static func pe(_ c: ArrayConfig, depth: Int = 10) throws -> Proof {
        precondition(c.format == .fixed && !c.zeroGating, "a fixed-point PE without zero gating")
        let top = try Systolic.pe(c)
        let (wa, wb, acc) = (c.a.bits, c.b.bits, c.accBits)
        func ext(_ name: String, _ bits: Int, signed: Bool) -> String {
            signed ? "{{\(64 - bits){\(name)[\(bits - 1)]}}, \(name)}" : "{{\(64 - bits){1'b0}}, \(name)}"
        }
        let checker = """
        module formal_check (input wire clk, input wire [\(wa - 1):0] a_in, input wire [\(wb - 1):0] b_in, input wire restart);
            wire [\(wa - 1):0] a_out;
            wire [\(wb - 1):0] b_out;
            wire [\(acc - 1):0] res_out;
            \(top.name) dut (.clk(clk), .a_in(a_in), .b_in(b_in), .restart(restart), .a_out(a_out), .b_out(b_out), .res_out(res_out));
            wire [63:0] product = \(ext("a_in", wa, signed: c.a.signed)) * \(ext("b_in", wb, signed: c.b.signed));
            reg  [\(acc - 1):0] sum = 0, result;
            reg  started = 1'b0, captured = 1'b0;
            reg  [\(wa - 1):0] a_past;
            reg  [\(wb - 1):0] b_past;
            reg  passed = 1'b0;
            always @(posedge clk) begin
                sum <= restart ? 0 : sum + product[\(acc - 1):0];
                if (restart) result <= sum + product[\(acc - 1):0];
                captured <= restart && started;
                started <= started || restart;
                a_past <= a_in;
                b_past <= b_in;
                passed <= 1'b1;
            end
            always @* begin
                if (captured) assert(res_out == result);
                if (passed) assert(a_out == a_past && b_out == b_past);
            end
        endmodule
        """
        return try prove("PE \(c.a) × \(c.b), acc \(acc): a reference multiply-accumulate", design: top, checker: checker,
                         depth: depth, induction: false)
    }

    /// Writes the design and the checker, converts them with yosys (`read_verilog -formal`,
    /// `prep`, `write_smt2`) and runs yosys-smtbmc with z3: a bounded proof from the reset, then
    /// k-induction when asked.
    static func prove(_ name: String, design: ModuleDefinition, checker: String, depth: Int, induction: Bool) throws -> Proof {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-formal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for file in try VerilogEmitter.emit(design) {
            try file.text.write(to: dir.appendingPathComponent(file.fileName), atomically: true, encoding: .utf8)
            files.append(file.fileName)
        }
        try checker.write(to: dir.appendingPathComponent("checker.sv"), atomically: true, encoding: .utf8)
        let script = "read_verilog \(files.joined(separator: " ")); read_verilog -formal -sv checker.sv; prep -top formal_check; async2sync; dffunmap; write_smt2 -wires proof.smt2"
        let yosys = try runTool("yosys", ["-q", "-p", script], in: dir)
        guard yosys.status == 0 else { throw CosimError.usage("formal: yosys could not read the checker of \(name):\n\(yosys.output)") }
        var arguments = ["-s", "z3", "--presat", "-t", String(depth), "proof.smt2"]
        var bmc = try runTool("yosys-smtbmc", arguments, in: dir)
        var passed = bmc.status == 0 && bmc.output.contains("PASSED")
        if passed && induction {
            arguments.insert("-i", at: 0)
            bmc = try runTool("yosys-smtbmc", arguments, in: dir)
            passed = bmc.status == 0 && bmc.output.contains("PASSED")
        }
        let tail = bmc.output.split(separator: "\n").suffix(6).joined(separator: "\n")
        return Proof(name: name, depth: depth, induction: induction, passed: passed, log: tail)
    }
}
