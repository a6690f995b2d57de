// swift-tools-version:6.0
//
// daxfs: a persistent-memory filesystem that is formatted, mounted, checked
// and manipulated in-process, on a plain file or on a device-DAX.
//
// Layering (each layer only imports the ones above it):
//   CPMem, CDaxctl, CNdctl   system libraries (libpmem, libdaxctl, libndctl)
//   CDaxShims                C helpers Swift cannot express (CRC32C/SSE4.2)
//   DaxCore                  errors, sizes, CRC32C, little-endian codec
//   PMem                     the only code that touches libpmem and mmap
//   DaxFSFormat              pure on-media records, no I/O
//   DaxFS                    the in-process filesystem engine
//   DaxFSCheck               fsck: passes over the media, the problem table, repairs
//   daxfs                    the command-line tool (never imports C targets)
//   daxfs-bench              the benchmark harness (never imports C targets)
import PackageDescription

let package = Package(
    name: "daxfs",
    products: [
        .executable(name: "daxfs", targets: ["daxfs"]),
        .library(name: "DaxFS", targets: ["DaxFS"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CPMem",
            pkgConfig: "libpmem",
            providers: [.apt(["libpmem-dev"])]),
        .systemLibrary(
            name: "CDaxctl",
            pkgConfig: "libdaxctl",
            providers: [.apt(["libdaxctl-dev"])]),
        .systemLibrary(
            name: "CNdctl",
            pkgConfig: "libndctl",
            providers: [.apt(["libndctl-dev"])]),
        .target(name: "CDaxShims"),
        .target(name: "DaxCore", dependencies: ["CDaxShims"]),
        .target(name: "PMem", dependencies: ["DaxCore", "CPMem", "CDaxctl", "CNdctl", "CDaxShims"]),
        .target(name: "DaxFSFormat", dependencies: ["DaxCore"]),
        // Exclusivity is enforced statically; the dynamic checks cost the hot
        // paths (a mapping taken and released) about a tenth of their time.
        .target(name: "DaxFS", dependencies: ["DaxCore", "PMem", "DaxFSFormat"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // fsck: checks the media itself and repairs through the engine's own code.
        .target(name: "DaxFSCheck", dependencies: ["DaxCore", "PMem", "DaxFSFormat", "DaxFS"]),
        // The release binary carries the Swift runtime and FoundationEssentials
        // statically: it starts in half the time (the dynamic loader's symbol
        // lookups were half of a short command's CPU), and it runs on a
        // recovery system that has libpmem and libndctl but no Swift.
        .executableTarget(
            name: "daxfs",
            dependencies: [
                "DaxFS", "DaxFSCheck", "DaxFSFormat", "PMem", "DaxCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
                // What the static FoundationEssentials needs and -static-stdlib alone does not name.
                .linkedLibrary("_FoundationCShims", .when(configuration: .release)),
                .linkedLibrary("_FoundationCollections", .when(configuration: .release)),
            ]),
        // The benchmark harness: `swift run -c release daxfs-bench [--quick]`.
        .executableTarget(
            name: "daxfs-bench",
            dependencies: [
                "DaxFS", "DaxFSFormat", "PMem", "DaxCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The fsx-style exerciser as a command, built in release for long runs:
        // `swift run -c release daxfs-fsx --ops 1000000`.
        .executableTarget(
            name: "daxfs-fsx",
            dependencies: ["DaxFSTestSupport", "DaxCore",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/daxfs-fsx"),
        .target(
            name: "DaxFSTestSupport",
            dependencies: ["DaxCore", "PMem", "DaxFSFormat", "DaxFS", "DaxFSCheck"],
            path: "Tests/DaxFSTestSupport"),
        .testTarget(name: "DaxCoreTests", dependencies: ["DaxCore"]),
        .testTarget(name: "PMemTests", dependencies: ["PMem", "DaxFSTestSupport"]),
        .testTarget(name: "DaxFSFormatTests", dependencies: ["DaxFSFormat", "DaxFSTestSupport"]),
        .testTarget(name: "DaxFSTests", dependencies: ["DaxFS", "DaxFSTestSupport"]),
        .testTarget(name: "CrashTests", dependencies: ["DaxFS", "DaxFSFormat", "DaxCore", "PMem", "DaxFSCheck", "DaxFSTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["DaxCore", "PMem", "DaxFSFormat", "DaxFS", "DaxFSTestSupport"]),
        .testTarget(name: "CheckTests", dependencies: ["DaxCore", "PMem", "DaxFSFormat", "DaxFS", "DaxFSCheck", "DaxFSTestSupport"],
                    exclude: ["Fixtures"]),
        // Field fuzzing and random corruption; scripts/test.sh runs them again under AddressSanitizer.
        .testTarget(name: "FsckFuzzTests", dependencies: ["DaxCore", "PMem", "DaxFSFormat", "DaxFS", "DaxFSCheck", "DaxFSTestSupport"]),
        .testTarget(name: "DaxfsBenchTests", dependencies: ["daxfs-bench"]),
    ],
    swiftLanguageModes: [.v6]
)
