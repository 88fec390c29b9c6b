import Foundation
import Testing
import HDL
import Verilog
import Cosim

// Helpers for reading emitted Verilog. They parse the text with plain string handling written for
// these tests; they know nothing of the emitter's internals.

/// Every module of the hierarchy, file name -> text.
func sources(_ top: ModuleDefinition) throws -> [String: String] {
    Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
}

/// The text of the top module alone.
func text(_ top: ModuleDefinition) -> String { VerilogEmitter.emit(module: top) }

/// `verilator --lint-only -Wall` over the whole hierarchy; throws with the warnings.
func lint(_ top: ModuleDefinition) throws {
    try Lint.verilator(sources: sources(top), top: top.name)
}

/// Trimmed lines of a module's text, without their trailing source comments.
func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map { line in
        let code = line.range(of: "  // ").map { line[..<$0.lowerBound] } ?? line
        return code.trimmingCharacters(in: .whitespaces)
    }
}

/// The continuous assignments, as (left side, right side) without the trailing semicolon:
/// `assign y = ...;` to a port and `wire [7:0] s = ...;`, a wire declared where it is assigned
/// (the `_unused_ok` sink left out).
func assigns(_ text: String) -> [(lhs: String, rhs: String)] {
    lines(text).compactMap { line in
        guard line.hasSuffix(";") else { return nil }
        var body: Substring
        if line.hasPrefix("assign ") {
            body = line.dropFirst("assign ".count).dropLast()
        } else if line.hasPrefix("wire "), line.contains(" = "), !line.contains("_unused_ok") {
            body = line.dropFirst("wire ".count).dropLast()
            if body.hasPrefix("["), let close = body.firstIndex(of: "]") { body = body[body.index(after: close)...] }
        } else {
            return nil
        }
        guard let eq = body.firstIndex(of: "=") else { return nil }
        return (body[..<eq].trimmingCharacters(in: .whitespaces), body[body.index(after: eq)...].trimmingCharacters(in: .whitespaces))
    }
}

/// The declared width of `name` (`wire [8:0] name` or `wire [8:0] name = ...`): 1 for a bit,
/// nil when it is not declared.
func declaredWidth(_ name: String, in text: String) -> Int? {
    for line in lines(text) where line.hasPrefix("wire ") || line.hasPrefix("reg ") {
        let words = line.replacingOccurrences(of: ";", with: " ").split(separator: " ")
        guard words.count >= 2 else { continue }
        if words[1] == Substring(name) { return 1 }
        if words[1].hasPrefix("["), words.count >= 3, words[2] == Substring(name),
           let hi = Int(words[1].dropFirst().prefix { $0 != ":" }) { return hi + 1 }
    }
    return nil
}

/// The right side assigned to `name` (nil when there is none).
func rhs(of name: String, in text: String) -> String? {
    assigns(text).first { $0.lhs == name }?.rhs
}

/// Port names in header order.
func portNames(_ text: String) -> [String] {
    let ls = lines(text)
    guard let start = ls.firstIndex(where: { $0.hasPrefix("module ") }),
          let end = ls[start...].firstIndex(where: { $0.hasPrefix(");") }) else { return [] }
    return ls[(start + 1)..<end].compactMap { line in
        line.trimmingCharacters(in: CharacterSet(charactersIn: ",")).split(separator: " ").last.map(String.init)
    }
}

/// Names declared inside the module body with `wire` or `reg` (memories included).
func declaredNames(_ text: String) -> [String] {
    lines(text).compactMap { line in
        guard line.hasPrefix("wire ") || line.hasPrefix("reg ") else { return nil }
        var rest = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst()
        if rest.first?.hasPrefix("[") == true { rest = rest.dropFirst() }
        guard let name = rest.first else { return nil }
        return String(name.prefix { $0 != ";" && $0 != " " })
    }
}

/// How many operators an expression applies (`$signed(...)` casts do not count).
func operatorCount(_ expression: String) -> Int {
    // A negative literal (`-8'sd2`) is a number, not an operation.
    let stripped = expression.replacingOccurrences(of: "$signed", with: "")
        .replacingOccurrences(of: #"-(?=[0-9]+'sd)"#, with: "", options: .regularExpression)
    let pattern = try! NSRegularExpression(pattern: ">>>|>>|<<|==|!=|<=|[-+*&|^<>?~]")
    return pattern.numberOfMatches(in: stripped, range: NSRange(stripped.startIndex..., in: stripped))
}

func isLegalIdentifier(_ s: String) -> Bool {
    s.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil
}

/// Verilog-2005 and SystemVerilog words the tests try to use as names.
let someKeywords: Set<String> = ["wire", "module", "begin", "end", "reg", "input", "output", "assign", "always",
                                 "logic", "signed", "if", "else", "posedge", "int", "bit", "byte", "endmodule"]

func count(_ needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}
