/// The float reference interpreter: runs a checked model node by node, in the graph's order,
/// on static shapes. It follows the ONNX operator definitions, not the hardware, and is what an
/// import is compared against. Float arithmetic is Float in, Float out; sums (convolutions,
/// products, averages, softmax) accumulate in Double and round once.
public struct Interpreter {
    public let model: ONNXModel

    /// Checks the model first (`Preflight`): an unsupported model is refused whole.
    public init(_ model: ONNXModel) throws {
        try Preflight.check(model)
        self.model = model
    }

    /// Every value the graph computes, by name (initializers and inputs included).
    public func values(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        var env = model.initializers
        for v in model.inputs {
            guard let t = inputs[v.name] else { throw ONNXError("graph input '\(v.name)' not given") }
            if let s = v.staticShape, s != t.shape {
                throw ONNXError("graph input '\(v.name)' has shape \(t.shape), the model declares \(s)")
            }
            if let e = v.element, e != t.element {
                throw ONNXError("graph input '\(v.name)' is \(t.element), the model declares \(e)")
            }
            env[v.name] = t
        }
        for node in model.nodes {
            let args: [Tensor?] = try node.inputs.map { name in
                if name.isEmpty { return nil }
                guard let t = env[name] else { throw ONNXError("node '\(node.label)' (\(node.opType)): input '\(name)' is not computed before it") }
                return t
            }
            let results: [Tensor]
            do {
                results = try Operators.evaluate(node, args, opset: model.opset)
            } catch let e as ONNXError {
                throw ONNXError("node '\(node.label)' (\(node.opType)): \(e.description)")
            }
            for (name, t) in zip(node.outputs, results) where !name.isEmpty { env[name] = t }
        }
        return env
    }

    /// The graph's outputs, in order.
    public func run(_ inputs: [String: Tensor]) throws -> [Tensor] {
        let env = try values(inputs)
        return try model.outputs.map { v in
            guard let t = env[v.name] else { throw ONNXError("graph output '\(v.name)' is never computed") }
            return t
        }
    }
}
