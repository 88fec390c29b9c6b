import Testing
import HDL

private let file = fileID("ShapeAndConstantTests")

@Suite("Shapes and constants")
struct ShapeAndConstantTests {
    @Test func minAndMax() {
        #expect(Shape.unsigned(1).minValue == 0)
        #expect(Shape.unsigned(1).maxValue == 1)
        #expect(Shape.signed(1).minValue == -1)
        #expect(Shape.signed(1).maxValue == 0)
        #expect(Shape.unsigned(8).maxValue == 255)
        #expect(Shape.signed(8).minValue == -128)
        #expect(Shape.signed(8).maxValue == 127)
        #expect(Shape.signed(64).minValue == Int128(Int64.min))
        #expect(Shape.signed(64).maxValue == Int128(Int64.max))
        #expect(Shape.unsigned(64).maxValue == Int128(UInt64.max))
        // The documented limit is 127 bits: 2^127 - 1 is the largest Int128.
        #expect(Shape.unsigned(127).maxValue == Int128.max)
        #expect(Shape.signed(127).maxValue == (Int128(1) << 126) - 1)
        #expect(Shape.signed(127).minValue == -(Int128(1) << 126))
    }

    @Test func contains() {
        let cases: [(Shape, Int128, Bool)] = [
            (.unsigned(8), 0, true), (.unsigned(8), 255, true), (.unsigned(8), 256, false), (.unsigned(8), -1, false),
            (.signed(8), -128, true), (.signed(8), 127, true), (.signed(8), 128, false), (.signed(8), -129, false),
            (.signed(1), -1, true), (.signed(1), 0, true), (.signed(1), 1, false),
            (.unsigned(1), 1, true), (.unsigned(1), 2, false),
            (.signed(126), (Int128(1) << 125) - 1, true), (.signed(126), Int128(1) << 125, false),
            (.signed(127), (Int128(1) << 126) - 1, true), (.signed(127), Int128(1) << 126, false),
            (.signed(127), -(Int128(1) << 126), true), (.signed(127), -(Int128(1) << 126) - 1, false),
            (.unsigned(127), Int128.max, true), (.unsigned(127), -1, false),
            (.signed(128), Int128.min, true), (.signed(128), Int128.max, true),
            (.unsigned(300), Int128.max, true), (.unsigned(300), -1, false), (.signed(300), Int128.min, true),
        ]
        for (shape, value, expected) in cases {
            #expect(shape.contains(value) == expected, "\(shape) contains \(value)")
        }
    }

    @Test func fitting() {
        let cases: [(Int128, Bool, Shape)] = [
            (0, false, .unsigned(1)), (1, false, .unsigned(1)), (2, false, .unsigned(2)), (255, false, .unsigned(8)),
            (256, false, .unsigned(9)), (0, true, .signed(1)), (-1, true, .signed(1)), (1, true, .signed(2)),
            (127, true, .signed(8)), (128, true, .signed(9)), (-128, true, .signed(8)), (-129, true, .signed(9)),
            (Int128(Int64.max), true, .signed(64)), (Int128(UInt64.max), false, .unsigned(64)),
        ]
        for (value, signed, expected) in cases {
            #expect(Shape.fitting(value, signed: signed) == expected, "\(value) signed: \(signed)")
        }
    }

    @Test func fittingANegativeValueUnsignedStopsInsteadOfLooping() async {
        // No unsigned shape holds -1; this used to loop forever.
        await #expect(processExitsWith: .failure) {
            _ = Shape.fitting(-1, signed: false)
        }
    }

    @Test func descriptions() {
        #expect(Shape.signed(8).description == "s8")
        #expect(Shape.unsigned(13).description == "u13")
        #expect(Shape.bit == Shape(width: 1, signed: false))
    }

    @Test func constantsInRangeAreAccepted() throws {
        var values: [Int128?] = []
        _ = try ModuleDefinition.define("consts") { m in
            let cs = [m.constant(255, .unsigned(8)), m.constant(0, .unsigned(8)), m.constant(-128, .signed(8)),
                      m.constant(127, .signed(8)), m.constant(-1, .signed(1)), m.constant(1, .bit)]
            values = cs.map(\.constantValue)
            m.output("y", cat(cs))
        }
        #expect(values == [255, 0, -128, 127, -1, 1])
    }

    @Test(arguments: [(Int128(256), Shape.unsigned(8)), (-1, .unsigned(8)), (128, .signed(8)), (-129, .signed(8)),
                      (1, .signed(1)), (2, .bit), (Int128(1) << 126, .signed(127))])
    func constantsThatDoNotFitAreRefused(_ value: Int128, _ shape: Shape) throws {
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let c = m.constant(value, shape)
            m.output("y", c)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("constant \(value) does not fit \(shape)"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func assigningAnIntegerThatDoesNotFitIsRefused() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let y = m.output("y", .unsigned(4))
            line = #line; y.assign(16)
        })
        #expect(e.description.contains("constant 16 does not fit u4"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func registerResetValueMustFit() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let r = m.register("r", .signed(4), reset: 8)
            r.assign(r)
            m.output("y", r)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("reset value 8"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func wideSignedConstantsKeepTheirBitPattern() throws {
        // A 127-bit signed -1 is 127 one bits: the pattern must not exceed the width.
        var patterns: [Int128] = []
        _ = try ModuleDefinition.define("wide") { m in
            let c = m.constant(-1, .signed(127))
            let d = m.constant(-(Int128(1) << 126), .signed(127))
            for s in [c, d] {
                if case .constant(let p) = s.op { patterns.append(p) }
            }
            m.output("y", cat(c, d))
        }
        #expect(patterns == [Int128.max, Int128(1) << 126])
    }
}
