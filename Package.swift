// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "AccelGen",
    products: [
        .executable(name: "generate-rtl", targets: ["generate-rtl"]),
        .executable(name: "simulate", targets: ["simulate"]),
        .executable(name: "sweep", targets: ["sweep"]),
        .executable(name: "fuzz", targets: ["fuzz"]),
        .executable(name: "train", targets: ["train"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // The construction language: signals, operators, registers, memories, modules, checks.
        .target(name: "HDL"),
        // Circuit -> synthesizable Verilog text.
        .target(name: "Verilog", dependencies: ["HDL"]),
        // The one vocabulary of arithmetic: number formats, fixed-point formats, rounding modes,
        // LFSR draws; every "allowed" list and help text derives from it.
        .target(name: "Arithmetic"),
        // Hardware generators: MAC, LFSR, rounding unit, arrays.
        .target(name: "Cores", dependencies: ["Arithmetic", "HDL"]),
        // Layer shapes and presets, event records, the cost table and the one energy model:
        // plain values shared by GEMM and convolution.
        .target(name: "Model", dependencies: ["Arithmetic"]),
        // Reference models in plain Swift integers, independent of the generators. Optimized in
        // debug builds too: a network's golden model over thousands of images is ten times
        // faster so (`make sim`, the tests); overflow and precondition checks stay on.
        .target(name: "Golden", dependencies: ["Arithmetic", "Model"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // The whole accelerator: configuration, instruction set, register map, generator.
        .target(name: "Accelerator", dependencies: ["Cores", "HDL"]),
        // Verilator build cache and simulation driver.
        .target(name: "Cosim"),
        // Convolution layers on PE arrays: shape validation, mappers, analytic counts, energy.
        .target(name: "Conv", dependencies: ["Cores", "Model"]),
        // Host-side drivers that run GEMMs and layers on a generated design: streaming, word
        // packing, stimulus, the PE-array engines (the one random generator, SplitMix64, is in Model).
        .target(name: "Runtime", dependencies: ["Accelerator", "Conv", "Cores", "Cosim", "Golden", "HDL", "Model", "Verilog"]),
        // One folder per dataflow (its design, generator, mapper and engine) and the registry
        // every front end iterates over.
        .target(name: "Dataflows", dependencies: ["Conv", "Cores", "Cosim", "Golden", "HDL", "Model", "Runtime"]),
        // Comparison against the golden models: core checks, GEMM checks, error statistics.
        .target(name: "Verification", dependencies: ["Conv", "Cores", "Cosim", "Golden", "HDL", "Model", "Runtime", "Verilog"]),
        // Performance figures (`simulate bench`, `make bench`).
        .target(name: "Benchmarks", dependencies: ["Conv", "Cores", "Cosim", "Dataflows", "Golden", "HDL", "Model", "Networks", "ONNX", "Runtime", "Verification", "Verilog"]),
        // Place and route (yosys synth_ecp5, nextpnr-ecp5): Fmax, critical path, utilization.
        .target(name: "Timing", dependencies: ["Cosim", "HDL", "Verilog"]),
        // Design-space sweeps: grid, per-point runs, synthesis metrics, energy, reports.
        .target(name: "Sweep", dependencies: ["Conv", "Cores", "Cosim", "Dataflows", "Golden", "HDL", "Model", "Networks", "Plotting", "Runtime", "Timing", "Verification", "Verilog"]),
        .executableTarget(name: "sweep", dependencies: [
            "Sweep", "Cores", "CLIOptions", "Timing",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Command-line flags shared by the front ends.
        .target(name: "CLIOptions", dependencies: [
            "Accelerator", "Conv", "Cores", "Dataflows", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "generate-rtl", dependencies: [
            "Accelerator", "Cores", "Dataflows", "Verilog", "HDL", "CLIOptions", "Runtime", "Timing",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "simulate", dependencies: [
            "Accelerator", "Benchmarks", "CLIOptions", "Conv", "Cores", "Cosim", "Dataflows", "Golden", "Model", "Networks", "ONNX", "Runtime", "Verification",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Random circuits: the in-process simulator against Verilator and Icarus Verilog.
        .target(name: "Fuzz", dependencies: ["Cosim", "HDL", "Runtime", "Verilog"]),
        .executableTarget(name: "fuzz", dependencies: [
            "Fuzz", "CLIOptions", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The system zlib (zlib1g-dev), to read the gzipped IDX files of Fashion-MNIST.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "Plotting"),
        // The swift-testing tags every test target shares (what a test needs: Verilator, Icarus,
        // yosys, Slurm, the dataset, training); `make test-fast` skips the tagged ones.
        .target(name: "TestTags"),
        // Float training of the network presets on Fashion-MNIST, and their quantization to
        // the integer networks the arrays run. Optimized in debug builds too: its tests train
        // small networks, which unoptimized Swift would take minutes over.
        .target(name: "Networks", dependencies: ["CMalloc", "CZlib", "Golden", "Model", "Plotting"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .executableTarget(name: "train", dependencies: [
            "Networks", "Model", "CLIOptions", "Cores", "Golden", "ONNX", "Verification",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // ONNX models: reading them (onnx.proto through SwiftProtobuf's runtime), the pre-flight
        // check, a float reference interpreter and the import to a network description.
        // Proto/onnx.pb.swift is generated once from Proto/onnx.proto (scripts/generate-onnx-proto.sh).
        .target(name: "ONNX", dependencies: ["Model", "Networks", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Proto/onnx.proto"]),
        .testTarget(name: "ONNXTests", dependencies: ["TestTags", "Cosim", "Golden", "Model", "Networks", "ONNX", "Verification"], exclude: ["Fixtures"]),
        .testTarget(name: "NetworksTests", dependencies: ["TestTags", "CZlib", "Networks", "Model", "train"]),
        .testTarget(name: "ArrayTrainingTests", dependencies: ["TestTags", "Cores", "Golden", "Model", "Networks", "Runtime", "Verification"]),
        .testTarget(name: "FuzzTests", dependencies: ["TestTags", "Cosim", "Fuzz", "HDL", "Verilog"]),
        .testTarget(name: "HDLTests", dependencies: ["TestTags", "HDL"]),
        .testTarget(name: "VerilogTests", dependencies: ["TestTags", "Cosim", "HDL", "Runtime", "Verilog"]),
        .testTarget(name: "GoldenTests", dependencies: ["TestTags", "Golden", "Runtime"]),
        .testTarget(name: "CosimTests", dependencies: ["TestTags", "Cosim", "Runtime"]),
        .testTarget(name: "CoresTests", dependencies: ["TestTags", "Cores", "Cosim", "Golden", "HDL", "Model", "Runtime", "Verification", "Verilog"]),
        .testTarget(name: "ConvTests", dependencies: ["TestTags", "Conv", "Cores", "Dataflows", "Golden", "Model"]),
        .testTarget(name: "PEArrayTests", dependencies: ["TestTags", "Conv", "Cores", "Cosim", "Dataflows", "Golden", "HDL", "Model", "Runtime", "Verification", "Verilog"]),
        .testTarget(name: "AcceleratorTests", dependencies: ["TestTags", "Accelerator", "Cores", "Cosim", "Golden", "HDL", "Model", "Runtime", "Verilog"]),
        .testTarget(name: "ModelTests", dependencies: ["TestTags", "Model"]),
        .testTarget(name: "NetworkHardwareTests", dependencies: ["TestTags", "Conv", "Cores", "Cosim", "Dataflows", "Golden", "Model", "Networks", "Runtime", "Verification"]),
        .testTarget(name: "TimingTests", dependencies: ["TestTags", "Cores", "HDL", "Timing", "Verilog"], exclude: ["Fixtures"]),
        // `sweep` is a dependency so that it is built before the tests run it.
        .testTarget(name: "SweepTests", dependencies: ["TestTags", "Cores", "Cosim", "HDL", "Model", "Sweep", "Timing", "Verilog", "sweep"]),
        // The executables are dependencies so that they are built before the tests run them.
        .testTarget(name: "CLITests", dependencies: ["TestTags", "Cosim", "generate-rtl", "simulate", "sweep", "train"]),
    ]
)
