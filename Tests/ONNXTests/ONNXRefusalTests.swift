import Foundation
@testable import ONNX
import Testing

/// What is refused, and how: the pre-flight check names every unsupported item at once;
/// reading refuses what it cannot read, in one line.
@Suite("ONNX refusals")
struct ONNXRefusalTests {
    static func relu(opset: Int = 13) -> ProtoBuilder {
        var b = ProtoBuilder()
        b.opset = opset
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 4])]
        b.outputs = [ProtoBuilder.valueInfo("y", [1, 4])]
        b.node("Relu", ["x"], ["y"])
        return b
    }

    static func error(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("one error lists every unsupported operator and attribute, as (domain, operator, opset, node, attribute), before anything runs")
    func unsupportedList() throws {
        var b = ProtoBuilder()
        var rng: UInt64 = 1
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 4, 8, 8])]
        b.outputs = [ProtoBuilder.valueInfo("y", [1, 4, 4, 4])]
        b.weight("w", [4, 2, 3, 3], rng: &rng)
        b.node("Conv", ["x", "w"], ["c"], name: "grouped", ["group": .i(2), "pads": .ints([1, 1, 1, 1])])
        b.node("Quant", ["c", "s", "z", "bits"], ["q"], name: "brevitas", domain: "qonnx.custom_op.general")
        b.node("LeakyRelu", ["q"], ["l"], name: "leaky")
        b.node("MaxPool", ["l"], ["y"], name: "dilated", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "dilations": .ints([2, 2])])
        b.node("Relu", ["y"], ["unused"], name: "odd", ["slope": .f(0.1)])
        let message = Self.error { _ = try Interpreter(try b.model()) }
        #expect(message == """
            5 unsupported items in the model (nothing was run or imported):
              ai.onnx Conv, opset 13, node 'grouped': attribute group = 2: only 1 is supported
              qonnx.custom_op.general Quant, opset 13, node 'brevitas': operator not supported
              ai.onnx LeakyRelu, opset 13, node 'leaky': operator not supported
              ai.onnx MaxPool, opset 13, node 'dilated': attribute dilations = [2, 2]: only 1 is supported
              ai.onnx Relu, opset 13, node 'odd': attribute slope not supported
            """)
    }

    @Test("element types are checked in the same pass: a Cast to another type, a float-only operator on integers")
    func elementTypes() throws {
        var b = ProtoBuilder()
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 4])]
        b.outputs = [ProtoBuilder.valueInfo("y", [1, 4], element: 7)]
        b.node("Cast", ["x"], ["c"], name: "cast", ["to": .i(7)])
        b.node("Relu", ["c"], ["y"], name: "relu")
        #expect(Self.error { _ = try Interpreter(try b.model()) } == """
            2 unsupported items in the model (nothing was run or imported):
              ai.onnx Cast, opset 13, node 'cast': a Cast from float to int64: only a Cast to the type the tensor has is supported
              ai.onnx Relu, opset 13, node 'relu': input of element type int64: only float is supported
            """)
    }

    @Test("an opset older than 7 is refused with a pointer to onnx.version_converter, a newer one than 23 too")
    func oldOpset() throws {
        #expect(Self.error { _ = try Self.relu(opset: 6).model() } == "opset 6 is older than the supported 7...23: convert the model first, e.g. onnx.version_converter.convert_version(model, 13)")
        #expect(Self.error { _ = try Self.relu(opset: 24).model() } == "opset 24 is newer than the supported 7...23")
        #expect(Self.error { _ = try Self.relu(opset: 7).model() } == "no error")
    }

    @Test("external data, sparse initializers and training information are refused in one line each")
    func unreadable() throws {
        var external = Self.relu()
        var t = ProtoBuilder.tensor("w", [4], [])
        t.dataLocation = .external
        var entry = Onnx_StringStringEntryProto()
        entry.key = "location"
        entry.value = "weights.bin"
        t.externalData = [entry]
        external.initializers = [t]
        #expect(Self.error { _ = try external.model() } == "tensor 'w' keeps its data in an external file (weights.bin): unsupported; save the model with its data inside (onnx.save_model(model, path, save_as_external_data=False))")

        var sparse = Self.relu().proto
        sparse.graph.sparseInitializer = [Onnx_SparseTensorProto()]
        #expect(Self.error { _ = try ONNXModel(proto: sparse) } == "the graph has sparse initializers (1): unsupported; store them dense")

        var training = Self.relu().proto
        training.trainingInfo = [Onnx_TrainingInfoProto()]
        #expect(Self.error { _ = try ONNXModel(proto: training) } == "the model carries training information (training_info): unsupported; export the inference graph only")
    }

    @Test("initializers read the same from raw_data as from the typed fields, for float, int64, int32, int8 and uint8")
    func initializerEncodings() throws {
        func raw(_ type: Int32, _ dims: [Int], _ bytes: [UInt8]) throws -> Tensor {
            var t = Onnx_TensorProto()
            t.dataType = type
            t.dims = dims.map { Int64($0) }
            t.rawData = Data(bytes)
            return try Tensor(proto: t)
        }
        func typed(_ type: Int32, _ dims: [Int], _ set: (inout Onnx_TensorProto) -> Void) throws -> Tensor {
            var t = Onnx_TensorProto()
            t.dataType = type
            t.dims = dims.map { Int64($0) }
            set(&t)
            return try Tensor(proto: t)
        }
        // 1.5 and -2 as little-endian IEEE singles.
        #expect(try raw(1, [2], [0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0]) == Tensor(shape: [2], floats: [1.5, -2]))
        #expect(try typed(1, [2]) { $0.floatData = [1.5, -2] } == Tensor(shape: [2], floats: [1.5, -2]))
        #expect(try raw(7, [1], [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == Tensor(.int64, shape: [1], ints: [-2]))
        #expect(try typed(7, [1]) { $0.int64Data = [-2] } == Tensor(.int64, shape: [1], ints: [-2]))
        #expect(try raw(6, [1], [0xFD, 0xFF, 0xFF, 0xFF]) == Tensor(.int32, shape: [1], ints: [-3]))
        #expect(try raw(3, [2], [0x80, 0x7F]) == Tensor(.int8, shape: [2], ints: [-128, 127]))
        #expect(try typed(3, [2]) { $0.int32Data = [-128, 127] } == Tensor(.int8, shape: [2], ints: [-128, 127]))
        #expect(try raw(2, [2], [0, 255]) == Tensor(.uint8, shape: [2], ints: [0, 255]))
        #expect(try typed(2, [2]) { $0.int32Data = [0, 255] } == Tensor(.uint8, shape: [2], ints: [0, 255]))
        #expect(Self.error { _ = try typed(2, [1]) { $0.int32Data = [256] } } == "tensor (unnamed): an int32_data value is outside the range of uint8")
        #expect(Self.error { _ = try typed(1, [3]) { $0.floatData = [1] } } == "tensor (unnamed) of shape [3] holds 1 values in float_data, expected 3")
        #expect(Self.error { _ = try typed(10, [1]) { $0.int32Data = [0] } } == "tensor (unnamed) has element type float16: supported float, uint8, int8, int32, int64")
    }
}
