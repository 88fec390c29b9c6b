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
    ],
    targets: [
        // The construction language: signals, operators, registers, memories, modules, checks.
        .target(name: "HDL"),
        // Circuit -> synthesizable Verilog text.
        .target(name: "Verilog", dependencies: ["HDL"]),
        // Hardware generators: MAC, LFSR, rounding unit, arrays.
        .target(name: "Cores", dependencies: ["HDL"]),
        // Layer shapes and presets, event records, the cost table and the one energy model:
        // plain values shared by GEMM and convolution.
        .target(name: "Model"),
        // Reference models in plain Swift integers, independent of the generators. Optimized in
        // debug builds too: a network's golden model over thousands of images is ten times
        // faster so (`make sim`, the tests); overflow and precondition checks stay on.
        .target(name: "Golden", dependencies: ["Model"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Verilator build cache and simulation driver.
        .target(name: "Cosim"),
        // Convolution layers on PE arrays: shape validation, mappers, analytic counts, energy.
        .target(name: "Conv", dependencies: ["Cores", "Model"]),
        // Host-side drivers that run GEMMs and layers on a generated design: streaming, word
        // packing, stimulus, the PE-array engines, and the one random generator (SplitMix64).
        .target(name: "Runtime", dependencies: ["Conv", "Cores", "Cosim", "Golden", "HDL", "Model", "Verilog"]),
        // One folder per dataflow (its design, generator, mapper and engine) and the registry
        // every front end iterates over.
        .target(name: "Dataflows", dependencies: ["Conv", "Cores", "Cosim", "Golden", "HDL", "Model", "Runtime"]),
        // Comparison against the golden models: core checks, GEMM checks, error statistics.
        .target(name: "Verification", dependencies: ["Conv", "Cores", "Cosim", "Golden", "HDL", "Model", "Runtime", "Verilog"]),
        // Performance figures (`simulate bench`, `make bench`).
        .target(name: "Benchmarks", dependencies: ["Conv", "Cores", "Cosim", "Dataflows", "Golden", "HDL", "Model", "Networks", "Runtime", "Verification", "Verilog"]),
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
            "Conv", "Cores", "Dataflows", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "generate-rtl", dependencies: [
            "Cores", "Dataflows", "Verilog", "HDL", "CLIOptions", "Timing",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "simulate", dependencies: [
            "Benchmarks", "CLIOptions", "Conv", "Cores", "Cosim", "Dataflows", "Golden", "Model", "Networks", "Runtime", "Verification",
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
        // Float training of the network presets on Fashion-MNIST, and their quantization to
        // the integer networks the arrays run. Optimized in debug builds too: its tests train
        // small networks, which unoptimized Swift would take minutes over.
        .target(name: "Networks", dependencies: ["CMalloc", "CZlib", "Golden", "Model", "Plotting"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .executableTarget(name: "train", dependencies: [
            "Networks", "Model", "CLIOptions", "Cores", "Golden", "Verification",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "NetworksTests", dependencies: ["CZlib", "Networks", "Model", "train"]),
        .testTarget(name: "ArrayTrainingTests", dependencies: ["Cores", "Golden", "Model", "Networks", "Runtime", "Verification"]),
        .testTarget(name: "FuzzTests", dependencies: ["Cosim", "Fuzz", "HDL", "Verilog"]),
        .testTarget(name: "HDLTests", dependencies: ["HDL"]),
        .testTarget(name: "VerilogTests", dependencies: ["Cosim", "HDL", "Runtime", "Verilog"]),
        .testTarget(name: "GoldenTests", dependencies: ["Golden", "Runtime"]),
        .testTarget(name: "CosimTests", dependencies: ["Cosim", "Runtime"]),
        .testTarget(name: "CoresTests", dependencies: ["Cores", "Cosim", "Golden", "HDL", "Model", "Runtime", "Verification", "Verilog"]),
        .testTarget(name: "ConvTests", dependencies: ["Conv", "Cores", "Dataflows", "Golden", "Model"]),
        .testTarget(name: "PEArrayTests", dependencies: ["Conv", "Cores", "Cosim", "Dataflows", "Golden", "HDL", "Model", "Runtime", "Verification", "Verilog"]),
        .testTarget(name: "ModelTests", dependencies: ["Model"]),
        .testTarget(name: "NetworkHardwareTests", dependencies: ["Conv", "Cores", "Cosim", "Dataflows", "Golden", "Model", "Networks", "Runtime", "Verification"]),
        .testTarget(name: "TimingTests", dependencies: ["Cores", "HDL", "Timing", "Verilog"], exclude: ["Fixtures"]),
        .testTarget(name: "SweepTests", dependencies: ["Cores", "Cosim", "HDL", "Model", "Sweep", "Verilog"]),
        // The executables are dependencies so that they are built before the tests run them.
        .testTarget(name: "CLITests", dependencies: ["Cosim", "generate-rtl", "simulate", "sweep"]),
    ]
)
