"""Runs an ONNX model in onnxruntime on raw float32 inputs: the outside reference the ONNX tests
compare the Swift interpreter with (Tests/ONNXTests). Usage:

    .venv/bin/python scripts/onnxruntime-run.py MODEL INPUTS.f32 COUNT OUTPUTS.f32

INPUTS.f32 holds COUNT inputs of the model's one input shape, back to back (little-endian
float32); OUTPUTS.f32 receives the first output of each, back to back.
"""
import sys

import numpy as np
import onnxruntime as ort


def main() -> None:
    model, inputs, count, outputs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    shape = [int(d) for d in spec.shape]
    x = np.fromfile(inputs, dtype="<f4").reshape([count] + shape)
    results = [session.run(None, {spec.name: x[i]})[0] for i in range(count)]
    np.concatenate([r.reshape(-1) for r in results]).astype("<f4").tofile(outputs)


if __name__ == "__main__":
    main()
