import Cosim
import Foundation
import HDL
import Verilog

/// Runs a generated design in Icarus Verilog, a four-state simulator where every register
/// powers up X, with random inputs and resets of one cycle (at power-up and in the middle of
/// the run), and counts the cycles after the first reset edge at which an output carries an X
/// or a Z. A design keeping the reset contract has none.
public enum IcarusCheck {
    public struct Report: Sendable {
        public let cycles: Int
        /// Cycles with an undefined bit on some output (sampled before each rising edge).
        public let undefinedCycles: Int
        /// The first of them: cycle and output.
        public let first: String?
    }

    /// `resets`: the cycles (after the power-up reset) at which `rst` is held for one edge.
    public static func run(_ top: ModuleDefinition, cycles: Int = 400, resets: [Int] = [150], seed: Int = 1) throws -> Report {
        let files = try VerilogEmitter.emit(top)
        var sources = Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, $0.text) })
        sources["xcheck_tb.v"] = testbench(top, cycles: cycles, resets: resets, seed: seed)
        let printed = try Icarus.run(sources: sources, top: "xcheck_tb")
        guard let line = printed.split(separator: "\n").last(where: { $0.hasPrefix("XCHECK ") }),
              let m = line.firstMatch(of: /XCHECK cycles=(\d+) undefined=(\d+)/) else {
            throw CosimError.toolFailed(command: "vvp xcheck_tb", status: 0, output: printed)
        }
        let first = printed.split(separator: "\n").first(where: { $0.hasPrefix("X at ") }).map(String.init)
        return Report(cycles: Int(m.1)!, undefinedCycles: Int(m.2)!, first: first)
    }

    /// Inputs change after each falling edge; outputs are checked just before each rising edge.
    static func testbench(_ top: ModuleDefinition, cycles: Int, resets: [Int], seed: Int) -> String {
        let inputs = top.ports.filter { $0.direction == .input && $0.name != "clk" && $0.name != "rst" }
        let outputs = top.ports.filter { $0.direction == .output }
        func random(_ width: Int) -> String {
            let words = (width + 31) / 32
            return words == 1 ? "$random(seed)" : "{" + Array(repeating: "$random(seed)", count: words).joined(separator: ", ") + "}"
        }
        var v = "`timescale 1ns/1ps\nmodule xcheck_tb;\n  reg clk = 0;\n  reg rst = 1;\n  integer seed = \(seed);\n"
        v += "  integer cycle, undefined;\n"
        for p in inputs { v += "  reg [\(p.shape.width - 1):0] \(p.name);\n" }
        for p in outputs { v += "  wire [\(p.shape.width - 1):0] \(p.name);\n" }
        let connections = top.ports.map { ".\($0.name)(\($0.name))" }.joined(separator: ", ")
        v += "  \(top.name) dut (\(connections));\n"
        v += "  task drive;\n    begin\n"
        for p in inputs { v += "      \(p.name) = \(random(p.shape.width));\n" }
        v += "    end\n  endtask\n"
        v += "  initial begin\n    undefined = 0;\n    drive;\n    #5 clk = 1; #5 clk = 0;\n"
        v += "    for (cycle = 0; cycle < \(cycles); cycle = cycle + 1) begin\n"
        v += "      drive;\n      rst = \(resets.isEmpty ? "0" : resets.map { "cycle == \($0)" }.joined(separator: " || "));\n      #4;\n"
        v += "      if (" + outputs.map { "(^\($0.name) === 1'bx)" }.joined(separator: " || ") + ") begin\n"
        v += "        if (undefined == 0) $display(\"X at cycle %0d:"
        v += outputs.map { " \($0.name)=%h" }.joined() + "\", cycle"
        v += outputs.map { ", \($0.name)" }.joined() + ");\n"
        v += "        undefined = undefined + 1;\n      end\n"
        v += "      #1 clk = 1; #5 clk = 0;\n    end\n"
        v += "    $display(\"XCHECK cycles=%0d undefined=%0d\", \(cycles), undefined);\n    $finish;\n  end\nendmodule\n"
        return v
    }
}
