import Foundation
import Model
import Networks
import SwiftProtobuf

/// The project's float networks as ONNX models (opset 13), so that they open in Netron and run
/// in onnxruntime: `train --export-onnx`.
///
/// The graph input `image` is 1×C×H×W float, the pixels p/255 in [0, 1] as the project's
/// networks take them (import it with `--input-scale 1/255`); the output `logits` is 1×N (no
/// Softmax). Layers map one to one: conv → Conv (kernel, strides, pads), dense → Gemm with
/// transB 1 (weights stay N×K, as the project stores them), ReLU → Relu, pooling → MaxPool /
/// AveragePool (window = stride), flatten → Flatten (axis 1: C, H, W order, the project's).
public enum Exporter {
    public static func model(_ spec: NetworkSpec, parameters: FloatParameters, description: String) throws -> Data {
        let stages = try StageLayout.stages(of: spec, inference: true)
        guard parameters.layers.count == stages.count else {
            throw ONNXError("\(spec.name): \(parameters.layers.count) parameter layers for \(stages.count) conv or dense layers")
        }
        if let i = parameters.layers.firstIndex(where: { $0.batchNorm != nil }) {
            throw ONNXError("\(spec.name): layer \(i) has batch norm (a BNN): only float networks are exported")
        }
        var graph = Onnx_GraphProto()
        graph.name = spec.name
        graph.input = [valueInfo("image", [1, spec.input.channels, spec.input.height, spec.input.width])]
        var current = "image"
        var rank = 4
        var weighted = 0
        func add(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) {
            var n = Onnx_NodeProto()
            n.opType = op
            n.name = "\(op.lowercased())\(graph.node.count)"
            n.input = inputs
            n.output = ["\(n.name)_out"]
            n.attribute = attributes
            graph.node.append(n)
            current = n.output[0]
        }
        for layer in spec.layers {
            switch layer {
            case .conv(let m, let k, let u, let p):
                let w = parameters.layers[weighted]
                let c = stages[weighted].shape.channels
                graph.initializer += [tensor("w\(weighted)", [m, c, k, k], w.weights), tensor("b\(weighted)", [m], w.bias)]
                add("Conv", [current, "w\(weighted)", "b\(weighted)"], [ints("kernel_shape", [k, k]), ints("strides", [u, u]), ints("pads", [p, p, p, p])])
                weighted += 1
            case .dense(let n):
                if rank == 4 { add("Flatten", [current], [int("axis", 1)]); rank = 2 }
                let w = parameters.layers[weighted]
                graph.initializer += [tensor("w\(weighted)", [n, stages[weighted].shape.channels], w.weights), tensor("b\(weighted)", [n], w.bias)]
                add("Gemm", [current, "w\(weighted)", "b\(weighted)"], [int("transB", 1)])
                weighted += 1
            case .relu:
                add("Relu", [current])
            case .maxPool(let k), .avgPool(let k):
                if case .maxPool = layer { add("MaxPool", [current], [ints("kernel_shape", [k, k]), ints("strides", [k, k])]) }
                else { add("AveragePool", [current], [ints("kernel_shape", [k, k]), ints("strides", [k, k])]) }
            case .flatten:
                if rank == 4 { add("Flatten", [current], [int("axis", 1)]); rank = 2 }
            }
        }
        graph.node[graph.node.count - 1].output = ["logits"]
        graph.output = [valueInfo("logits", [1, spec.shapes.last!.count])]
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "AccelGen"
        model.docString = description
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = 13
        model.opsetImport = [opset]
        model.graph = graph
        return try model.serializedData()
    }

    static func tensor(_ name: String, _ dims: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map { Int64($0) }
        t.dataType = 1
        // raw_data, little-endian float32 (the byte order of every machine this runs on).
        t.rawData = values.map(\.bitPattern.littleEndian).withUnsafeBytes { Data($0) }
        return t
    }

    static func valueInfo(_ name: String, _ dims: [Int]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = 1
        var s = Onnx_TensorShapeProto()
        s.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = Int64(d)
            return dim
        }
        t.shape = s
        v.type.tensorType = t
        return v
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map { Int64($0) }
        return a
    }

    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }
}
