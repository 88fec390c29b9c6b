import Foundation
import HDL
import Testing
import Verilog

/// What the README says the emitter writes is what it writes.
@Suite("the README's Verilog")
struct DocumentedTextTests {
    @Test("a constant is written in place, in hex, as the README shows it")
    func constants() throws {
        let top = try ModuleDefinition.define("plus3") { m in
            let x = m.input("x", .unsigned(8))
            m.output("y", x &+ m.constant(3, .unsigned(8)))
        }
        let text = try VerilogEmitter.emit(top).map(\.text).joined()
        #expect(text.contains("x + 8'h3"), "\(text)")
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("`x + 8'h3`"))
        #expect(readme.firstMatch(of: /[0-9]+'d[0-9]/) == nil, "the README shows a decimal constant the emitter never writes")
    }
}
