import Cosim
import Foundation

/// The few designs the tests build (each distinct design costs a Verilator build).
enum TestDesigns {
    /// Registered 8-bit counter with enable, programmable increment and
    /// synchronous reset, plus a combinational 16-bit output.
    static let counter = CosimDesign(
        top: "counter",
        sources: ["counter.v": """
            module counter (
                input  wire        clk,
                input  wire        rst,
                input  wire        en,
                input  wire [7:0]  inc,
                output reg  [7:0]  q,
                output wire [15:0] q_times_inc
            );
                always @(posedge clk) begin
                    if (rst) q <= 8'd0;
                    else if (en) q <= q + inc;
                end
                assign q_times_inc = q * inc;
            endmodule

            """],
        ports: [
            .input("clk"), .input("rst"), .input("en"), .input("inc", 8),
            .output("q", 8), .output("q_times_inc", 16),
        ])

    /// Every width class: 8/16/32 (CData/SData/IData), 40 and 64 signed (QData),
    /// 100 and 130 bits (VlWide), combinational and registered.
    static let mix = CosimDesign(
        top: "mix",
        sources: ["mix.v": """
            module mix (
                input  wire                clk,
                input  wire [7:0]          a8,
                input  wire [15:0]         b16,
                input  wire [31:0]         c32,
                input  wire signed [39:0]  s40,
                input  wire signed [63:0]  s64,
                input  wire [99:0]         wa,
                input  wire [99:0]         wb,
                output wire [7:0]          x8,
                output wire [15:0]         y16,
                output wire [31:0]         z32,
                output wire signed [39:0]  n40,
                output wire signed [63:0]  t64,
                output wire [99:0]         sum100,
                output wire                carry100,
                output wire [129:0]        cat130,
                output reg  [99:0]         acc100
            );
                wire [100:0] full = {1'b0, wa} + {1'b0, wb};
                assign x8 = a8 ^ 8'h5a;
                assign y16 = b16 + {8'd0, a8};
                assign z32 = c32 * 32'd3;
                assign n40 = -s40;
                assign t64 = s64 + {{24{s40[39]}}, s40};
                assign sum100 = full[99:0];
                assign carry100 = full[100];
                assign cat130 = {wa, c32[29:0]};
                always @(posedge clk) acc100 <= acc100 + wa;
            endmodule

            """],
        ports: [
            .input("clk"), .input("a8", 8), .input("b16", 16), .input("c32", 32),
            .input("s40", 40), .input("s64", 64), .input("wa", 100), .input("wb", 100),
            .output("x8", 8), .output("y16", 16), .output("z32", 32), .output("n40", 40),
            .output("t64", 64), .output("sum100", 100), .output("carry100", 1),
            .output("cat130", 130), .output("acc100", 100),
        ])
}

extension UInt128 {
    static func mask(_ bits: Int) -> UInt128 { bits >= 128 ? ~0 : (UInt128(1) << bits) - 1 }
    var words: [UInt64] { [UInt64(truncatingIfNeeded: self), UInt64(truncatingIfNeeded: self >> 64)] }
    init(words w: [UInt64]) { self = UInt128(w[0]) | (w.count > 1 ? UInt128(w[1]) << 64 : 0) }
}

func temporaryFile(_ name: String) -> URL {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("cosim-tests-\(UUID().uuidString.prefix(8))", isDirectory: true)
        .appendingPathComponent(name)
}
