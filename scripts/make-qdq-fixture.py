"""Makes the per-channel int8 QDQ fixture of the project's LeNet-5 with onnxruntime's own
post-training quantizer, as a user of onnxruntime would (docs/ONNX.md, issue 23 item 3). Run once,
by hand, not in CI (pinned versions: scripts/requirements.txt, onnxruntime 1.31.1, onnx 1.23.2):

    .build/debug/train --model lenet5 --export-onnx /tmp/lenet5.onnx
    .venv/bin/python scripts/make-qdq-fixture.py /tmp/lenet5.onnx Tests/ONNXTests/Fixtures/lenet5-qdq-per-channel.onnx

Calibration: the first 300 Fashion-MNIST training images (Debian's dataset-fashion-mnist), as
the float model takes them, pixels p/255 in [0, 1]. quantize_static with QDQ format,
per_channel=True, int8 weights and activations, and its defaults otherwise (MinMax calibration,
symmetric weights, asymmetric activations).
"""
import gzip
import sys

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

TRAIN_IMAGES = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
COUNT = 300


class Images(CalibrationDataReader):
    def __init__(self, name: str) -> None:
        with gzip.open(TRAIN_IMAGES, "rb") as f:
            data = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        images = data[: COUNT * 784].reshape(COUNT, 1, 1, 28, 28).astype(np.float32) / 255
        self.feed = iter([{name: x} for x in images])

    def get_next(self):
        return next(self.feed, None)


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    quantize_static(source, target, Images("image"), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QInt8)


if __name__ == "__main__":
    main()
