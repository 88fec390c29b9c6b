#!/bin/sh
# Regenerates Sources/ONNX/Proto/onnx.pb.swift from the vendored onnx.proto (onnx 1.23.2's, from
# its PyPI wheel). Run by hand once per proto update, never in CI: it needs protoc (Debian's
# protobuf-compiler) and protoc-gen-swift built from apple/swift-protobuf at the tag the package
# depends on (1.39.0), outside this repository:
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/protoc-build
#   (cd /tmp/protoc-build && swift build -c release --product protoc-gen-swift)
#   PROTOC_GEN_SWIFT=/tmp/protoc-build/.build/release/protoc-gen-swift scripts/generate-onnx-proto.sh
set -eu
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --proto_path=Sources/ONNX/Proto \
  --swift_out=Sources/ONNX/Proto \
  Sources/ONNX/Proto/onnx.proto
