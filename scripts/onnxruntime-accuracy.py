"""Top-1 accuracy of ONNX models in onnxruntime on the 10,000 Fashion-MNIST test images
(Debian's dataset-fashion-mnist), each model taking one 1x1x28x28 float input `image` of pixels
p/255 (the project's exports and the QDQ fixture): the outside figure docs/ONNX.md compares the
imported network's with. A measurement, run by hand, not in CI. Usage:

    .venv/bin/python scripts/onnxruntime-accuracy.py MODEL...

Classes are the index of the largest output, the lowest on a tie (numpy's argmax), as the
project classifies.
"""
import gzip
import sys

import numpy as np
import onnxruntime as ort

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path: str, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main() -> None:
    x = idx(f"{DATA}/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 1, 28, 28).astype(np.float32) / 255
    y = idx(f"{DATA}/t10k-labels-idx1-ubyte.gz", 8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    for model in sys.argv[1:]:
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        predicted = np.array([int(np.argmax(session.run(None, {name: x[i]})[0])) for i in range(len(y))])
        print(f"{model}: top-1 accuracy {100 * (predicted == y).mean():.2f}% on {len(y)} test images")


if __name__ == "__main__":
    main()
