// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-attention",
    products: [
        .library(name: "Attention", targets: ["Attention"]),
        .library(name: "AttentionIO", targets: ["AttentionIO"]),
        .library(name: "AttentionCharts", targets: ["AttentionCharts"]),
        .executable(name: "attention", targets: ["attention"]),
        .executable(name: "attention-bench", targets: ["attention-bench"]),
    ],
    targets: [
        // MARK: - C layer

        // OpenBLAS's CBLAS and LAPACKE headers. Debian's libopenblas-dev and
        // liblapacke-dev provide them; `make setup` installs both.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),

        // Element-wise softmax kernels (the vectorized exp) in C, because
        // Swift's default x86-64 target has no AVX. The C file compiles
        // AVX-512 and AVX2 bodies with target attributes and picks one at
        // run time, with a portable body for other CPUs.
        .target(name: "CAttentionKernels"),

        // MARK: - Libraries

        .target(
            name: "Attention",
            dependencies: ["CBLAS", "CAttentionKernels"]
        ),
        .target(
            name: "AttentionIO",
            dependencies: ["Attention"]
        ),
        // SVG heatmaps and benchmark charts, drawn without a plotting library.
        .target(
            name: "AttentionCharts",
            dependencies: ["Attention"]
        ),

        // MARK: - Executables

        .executableTarget(
            name: "attention",
            dependencies: ["Attention", "AttentionIO", "AttentionCharts"]
        ),
        .executableTarget(
            name: "attention-bench",
            dependencies: ["Attention", "AttentionIO", "AttentionCharts", "CAttentionKernels"],
            path: "Benchmarks/attention-bench"
        ),

        // MARK: - Tests

        .testTarget(
            name: "AttentionTests",
            dependencies: ["Attention", "AttentionIO", "CAttentionKernels"]
        ),
        .testTarget(
            name: "AttentionIOTests",
            dependencies: ["Attention", "AttentionIO"]
        ),
        .testTarget(
            name: "AttentionChartsTests",
            dependencies: ["Attention", "AttentionCharts"]
        ),
        // Runs the built `attention` executable as a subprocess; the
        // dependency makes `swift test` build it first.
        .testTarget(
            name: "AttentionCLITests",
            dependencies: ["attention", "AttentionIO"]
        ),
    ]
)
