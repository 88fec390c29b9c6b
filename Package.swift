// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "AccelGen",
    products: [
        .executable(name: "generate-rtl", targets: ["generate-rtl"]),
        .executable(name: "simulate", targets: ["simulate"]),
        .executable(name: "sweep", targets: ["sweep"]),
        .executable(name: "fuzz", targets: ["fuzz"]),
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
        // Reference models in plain Swift integers, independent of the generators.
        .target(name: "Golden"),
        // Verilator build cache and simulation driver.
        .target(name: "Cosim"),
        // Runs each core in Verilator against its golden model.
        // Convolution layers on PE arrays: layer presets, mappers, analytic counts, energy.
        .target(name: "Conv", dependencies: ["Cores", "Golden"]),
        .target(name: "Verification", dependencies: ["Cores", "Conv", "Golden", "Cosim", "Verilog", "HDL"]),
        // Design-space sweeps: grid, per-point runs, synthesis metrics, energy, reports.
        .target(name: "Sweep", dependencies: ["Cores", "Conv", "Golden", "Cosim", "Verilog", "Verification", "HDL"]),
        .executableTarget(name: "sweep", dependencies: [
            "Sweep", "Cores", "CLIOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Command-line flags shared by the front ends.
        .target(name: "CLIOptions", dependencies: [
            "Cores", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "generate-rtl", dependencies: [
            "Cores", "Conv", "Verilog", "HDL", "CLIOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "simulate", dependencies: [
            "Verification", "Conv", "Cores", "Golden", "CLIOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Random circuits: the in-process simulator against Verilator and Icarus Verilog.
        .target(name: "Fuzz", dependencies: ["HDL", "Verilog", "Cosim"]),
        .executableTarget(name: "fuzz", dependencies: [
            "Fuzz", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "FuzzTests", dependencies: ["Fuzz", "HDL", "Verilog", "Cosim"]),
        .testTarget(name: "HDLTests", dependencies: ["HDL"]),
        .testTarget(name: "VerilogTests", dependencies: ["HDL", "Verilog", "Cosim"]),
        .testTarget(name: "GoldenTests", dependencies: ["Golden"]),
        .testTarget(name: "CosimTests", dependencies: ["Cosim"]),
        .testTarget(name: "CoresTests", dependencies: ["Cores", "Verilog", "Verification", "Golden", "Cosim", "HDL"]),
        .testTarget(name: "ConvTests", dependencies: ["Conv", "Cores", "Golden"]),
        .testTarget(name: "PEArrayTests", dependencies: ["Conv", "Cores", "Golden", "Verification", "Verilog", "Cosim", "HDL"]),
        .testTarget(name: "SweepTests", dependencies: ["Sweep", "Cores", "Cosim", "Verilog", "HDL"]),
        .testTarget(name: "CLITests", dependencies: ["Cosim", "generate-rtl", "simulate", "sweep"]),
    ]
)
