import Foundation
import Golden
import Testing

/// docs/FORMATS.md's worked codes, which say which bit is the top one, decode as it says (an
/// outside testbench is written from them).
@Suite("documented operand codes")
struct DocumentedCodesTests {
    @Test("the ternary [nonzero, negative] and pow2 [sign, e] examples of docs/FORMATS.md")
    func formatsExamples() throws {
        let doc = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/FORMATS.md"), encoding: .utf8)
        let pow2e3 = OperandCode.powerOfTwo(exponentBits: 3)
        let examples: [(text: String, code: OperandCode, bits: Int128, value: Int128)] = [
            ("`2'b10` = +1", .ternary, 0b10, 1), ("`2'b11` = −1", .ternary, 0b11, -1),
            ("`2'b00` and `2'b01` = 0", .ternary, 0b01, 0), ("`2'b00` and `2'b01` = 0", .ternary, 0b00, 0),
            ("`4'b0011` = +4", pow2e3, 0b0011, 4), ("`4'b1011` = −4", pow2e3, 0b1011, -4),
            ("`4'b0000` and `4'b1000` = 0", pow2e3, 0b1000, 0),
        ]
        for e in examples {
            #expect(doc.contains(e.text), "docs/FORMATS.md does not say \(e.text)")
            #expect(e.code.value(e.bits) == e.value, "\(e.text)")
        }
    }
}
