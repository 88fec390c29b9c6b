// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "AccelGen",
    products: [
        .executable(name: "generate-rtl", targets: ["generate-rtl"]),
        .executable(name: "simulate", targets: ["simulate"]),
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
        .target(name: "Verification", dependencies: ["Cores", "Golden", "Cosim", "Verilog", "HDL"]),
        // Command-line flags shared by the front ends.
        .target(name: "CLIOptions", dependencies: [
            "Cores", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "generate-rtl", dependencies: [
            "Cores", "Verilog", "HDL", "CLIOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "simulate", dependencies: [
            "Verification", "Cores", "Golden", "CLIOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "HDLTests", dependencies: ["HDL"]),
        .testTarget(name: "VerilogTests", dependencies: ["HDL", "Verilog", "Cosim"]),
        .testTarget(name: "GoldenTests", dependencies: ["Golden"]),
        .testTarget(name: "CosimTests", dependencies: ["Cosim"]),
        .testTarget(name: "CoresTests", dependencies: ["Cores", "Verilog", "Verification", "Golden", "Cosim", "HDL"]),
        .testTarget(name: "CLITests", dependencies: ["Cosim", "generate-rtl"]),
    ]
)
