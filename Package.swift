// swift-tools-version:6.1
// Muster: DRS recovery orchestration as event-driven Swift services.
// Layout: Shared/<Concern> libraries, Services/<Name>/{Main,App}, Tests/, Benchmarks/.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let tracing = Target.Dependency.product(name: "Tracing", package: "swift-distributed-tracing")

/// A service: `Services/<folder>/App` (its logic, a library) and
/// `Services/<folder>/Main` (the tiny executable that wires it).
/// `resources` are compiled into the app (an API's OpenAPI document is
/// `.embedInCode`, so the binary serves exactly the file in the repository).
func service(_ product: String, folder: String, app: String, deps: [Target.Dependency],
             resources: [Resource]? = nil) -> [Target] {
    [
        .target(name: app, dependencies: deps, path: "Services/\(folder)/App", resources: resources,
                swiftSettings: swiftSettings),
        .executableTarget(
            name: String(app.dropLast("App".count)) + "Main",
            dependencies: [.target(name: app), "MusterService", lifecycle, log],
            path: "Services/\(folder)/Main",
            swiftSettings: swiftSettings
        ),
    ]
}

let serviceDeps: [Target.Dependency] = [
    "MusterService", "MusterMessaging", "MusterEvents", "MusterDomain",
    "MusterKafka", "MusterPostgres", log, metrics, lifecycle,
]

let package = Package(
    name: "Muster",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "planner", targets: ["PlannerMain"]),
        .executable(name: "launcher", targets: ["LauncherMain"]),
        .executable(name: "poller", targets: ["PollerMain"]),
        .executable(name: "notifier", targets: ["NotifierMain"]),
        .executable(name: "drs-sim", targets: ["DRSSimMain"]),
        .executable(name: "muster", targets: ["MusterCLI"]),
        .executable(name: "muster-bench-foundation", targets: ["FoundationBenchmark"]),
        .executable(name: "muster-bench-launcher", targets: ["LauncherBenchmark"]),
        .executable(name: "muster-bench-poller", targets: ["PollerBenchmark"]),
        .executable(name: "muster-bench-storm", targets: ["StormBenchmark"]),
        .executable(name: "muster-stress-kafka", targets: ["KafkaStress"]),
        .executable(name: "muster-bench-events", targets: ["EventStreamBenchmark"]),
        .executable(name: "muster-bench-handoff", targets: ["HandoffBenchmark"]),
        .executable(name: "muster-bench-shutdown", targets: ["ShutdownBenchmark"]),
        .executable(name: "muster-bench-readiness", targets: ["ReadinessBenchmark"]),
        .executable(name: "muster-bench-idle", targets: ["IdleBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        // Environment variables through swift-configuration's provider (Shared/Service/EnvironmentSettings);
        // no traits, as Hummingbird takes it, so one build of it serves both.
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: []),
    ],
    targets: [
        // C bindings: thin shims, hidden behind the Swift libraries below.
        .systemLibrary(name: "CRdKafka", path: "Shared/CRdKafka", pkgConfig: "rdkafka",
                       providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Shared/CMalloc"),
        .systemLibrary(name: "CCurl", path: "Shared/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),

        // Shared libraries, one concern each.
        .target(name: "MusterKafka", dependencies: ["CRdKafka", "MusterDomain", log], path: "Shared/Kafka",
                swiftSettings: swiftSettings),
        .target(name: "MusterPostgres", dependencies: ["CLibPQ", "MusterDomain", log], path: "Shared/Postgres",
                swiftSettings: swiftSettings),
        .target(name: "MusterHTTP", dependencies: ["CCurl", "MusterDomain", log, tracing], path: "Shared/HTTPClient",
                swiftSettings: swiftSettings),
        .target(name: "MusterAWS", dependencies: ["MusterHTTP", "MusterDomain", crypto, log], path: "Shared/AWS",
                swiftSettings: swiftSettings),
        .target(name: "MusterDRS", dependencies: ["MusterAWS", "MusterHTTP", log], path: "Shared/DRS",
                swiftSettings: swiftSettings),
        .target(name: "MusterEC2", dependencies: ["MusterAWS", "MusterHTTP", log], path: "Shared/EC2",
                swiftSettings: swiftSettings),
        .target(name: "MusterDomain", path: "Shared/Domain", swiftSettings: swiftSettings),
        .target(name: "MusterEvents", dependencies: ["MusterDomain"], path: "Shared/Events",
                swiftSettings: swiftSettings),
        .target(name: "MusterMessaging",
                dependencies: ["MusterEvents", "MusterKafka", "MusterPostgres", log, metrics, lifecycle, tracing],
                path: "Shared/Messaging", swiftSettings: swiftSettings),
        // W3C trace context, Muster's tracer and its OTLP/HTTP JSON exporter (docs/observability.md).
        .target(name: "MusterTracing", dependencies: ["MusterHTTP", log, metrics, lifecycle, tracing],
                path: "Shared/Tracing", swiftSettings: swiftSettings),
        .target(name: "MusterAPI", dependencies: ["MusterDomain", "MusterEvents", hummingbird, crypto, log], path: "Shared/API",
                swiftSettings: swiftSettings),
        .target(name: "MusterService",
                dependencies: ["MusterKafka", "MusterPostgres", "MusterMessaging", "MusterEvents", "MusterTracing", "CMalloc", log, metrics,
                               lifecycle, hummingbird, tracing,
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "Configuration", package: "swift-configuration")],
                path: "Shared/Service", swiftSettings: swiftSettings),
    ]
    + [
        // The console's pages: page models, SVG layouts and escaped Mustache templates (pure; no I/O).
        .target(name: "MusterConsole", dependencies: ["MusterDomain", .product(name: "Mustache", package: "swift-mustache")],
                path: "Services/Planner/Console", swiftSettings: swiftSettings),
    ]
    + service("planner", folder: "Planner", app: "PlannerApp",
              deps: serviceDeps + ["MusterAPI", "MusterConsole", "MusterHTTP", hummingbird, crypto,
                                   .product(name: "_CryptoExtras", package: "swift-crypto")],
              resources: [.embedInCode("API/openapi.json")])
    + service("launcher", folder: "Launcher", app: "LauncherApp", deps: serviceDeps + ["MusterDRS", "MusterEC2", "MusterAWS"])
    + service("poller", folder: "Poller", app: "PollerApp", deps: serviceDeps)
    + service("notifier", folder: "Notifier", app: "NotifierApp", deps: serviceDeps + ["MusterAPI", "MusterHTTP", hummingbird, crypto],
              resources: [.embedInCode("API/openapi.json")])
    + service("drs-sim", folder: "DRSSim", app: "DRSSimApp",
              deps: ["MusterService", "MusterDRS", "MusterEC2", "MusterAWS", "MusterDomain", log, metrics, lifecycle, hummingbird, crypto])
    + [
        // The operator CLI: logic in MusterCLIKit (tested), commands in Tools/Muster.
        .target(name: "MusterCLIKit",
                dependencies: ["MusterDomain", "MusterHTTP", .product(name: "Yams", package: "Yams")],
                path: "Tools/MusterCLIKit", swiftSettings: swiftSettings),
        .executableTarget(name: "MusterCLI",
                          dependencies: ["MusterCLIKit", "MusterHTTP", log,
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Tools/Muster", swiftSettings: swiftSettings),
        .executableTarget(name: "LauncherBenchmark",
                          dependencies: ["LauncherApp", "DRSSimApp", "MusterService", "MusterDRS", "MusterAWS", "MusterHTTP",
                                         "MusterMessaging", "MusterEvents", "MusterKafka", "MusterPostgres", log],
                          path: "Benchmarks/Launcher", swiftSettings: swiftSettings),
        .executableTarget(name: "PollerBenchmark",
                          dependencies: ["PollerApp", "MusterService", "MusterMessaging", "MusterEvents", "MusterKafka",
                                         "MusterPostgres", log],
                          path: "Benchmarks/Poller", swiftSettings: swiftSettings),
        // The planner's API in-process on a fresh schema, for the benchmarks that time it.
        .target(name: "PlannerBenchRig", dependencies: ["PlannerApp", "MusterHTTP", "MusterKafka", "MusterMessaging", "MusterPostgres", log],
                path: "Benchmarks/PlannerRig", swiftSettings: swiftSettings),
        .executableTarget(name: "EventStreamBenchmark",
                          dependencies: ["PlannerApp", "PlannerBenchRig", "MusterCLIKit", "MusterHTTP", "MusterMessaging", "MusterPostgres", log,
                                         lifecycle],
                          path: "Benchmarks/EventStream", swiftSettings: swiftSettings),
        // Boots the built service executables (TestSupport.ServiceProcess) and times SIGTERM → exit.
        .executableTarget(name: "ShutdownBenchmark",
                          dependencies: ["MusterDomain", "MusterEvents", "MusterHTTP", "MusterKafka", "TestSupport"],
                          path: "Benchmarks/Shutdown", swiftSettings: swiftSettings),
        .executableTarget(name: "HandoffBenchmark",
                          dependencies: ["PollerApp", "LauncherApp", "DRSSimApp", "MusterDRS", "MusterAWS", "MusterHTTP",
                                         "MusterMessaging", "MusterEvents", "MusterKafka", "MusterPostgres", log],
                          path: "Benchmarks/Handoff", swiftSettings: swiftSettings),
        .executableTarget(name: "ReadinessBenchmark",
                          dependencies: ["PlannerApp", "PlannerBenchRig", "LauncherApp", "DRSSimApp", "MusterAWS", "MusterHTTP",
                                         "MusterKafka", "MusterMessaging", "MusterPostgres", log],
                          path: "Benchmarks/Readiness", swiftSettings: swiftSettings),
        .executableTarget(name: "FoundationBenchmark",
                          dependencies: ["MusterKafka", "MusterPostgres", "MusterMessaging", "MusterEvents", log],
                          path: "Benchmarks/Foundation", swiftSettings: swiftSettings),
        // The region-wide outage against the five real processes (black boxes: HTTP, Kafka, PostgreSQL).
        .executableTarget(name: "StormBenchmark",
                          dependencies: ["MusterKafka", "MusterPostgres", "MusterHTTP", "MusterDRS", "MusterAWS", log],
                          path: "Benchmarks/Storm", swiftSettings: swiftSettings),
        // The CPU an idle stack uses, per process, read from /proc (no Muster module needed).
        .executableTarget(name: "IdleBenchmark", path: "Benchmarks/Idle", swiftSettings: swiftSettings),
        // The producer's batch-delivery path under broker pauses, timeouts and shutdowns (build with sanitizers).
        .executableTarget(name: "KafkaStress", dependencies: ["MusterKafka", log],
                          path: "Benchmarks/KafkaStress", swiftSettings: swiftSettings),

        // Tests: Swift Testing. Integration suites use the real PostgreSQL and
        // broker started by scripts/infra.sh (see TestSupport).
        .target(name: "TestSupport",
                dependencies: ["MusterPostgres", "MusterKafka", "MusterMessaging", "MusterEvents", "MusterService", log, metrics,
                               hummingbird, lifecycle, .product(name: "MetricsTestKit", package: "swift-metrics"),
                               .product(name: "Prometheus", package: "swift-prometheus")],
                path: "Tests/Support", swiftSettings: swiftSettings),
        .testTarget(name: "KafkaTests", dependencies: ["MusterKafka", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["MusterPostgres", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTPClientTests", dependencies: ["MusterHTTP", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "AWSTests", dependencies: ["MusterAWS", "TestSupport"],
                    resources: [.copy("Vectors")], swiftSettings: swiftSettings),
        .testTarget(name: "DRSTests", dependencies: ["MusterDRS", "MusterEC2", "DRSSimApp", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "MessagingTests",
                    dependencies: ["MusterMessaging", "MusterEvents", "MusterKafka", "MusterPostgres", "MusterTracing", "MusterHTTP",
                                   "TestSupport", tracing],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LauncherTests",
                    dependencies: ["LauncherApp", "DRSSimApp", "MusterDRS", "MusterEC2", "MusterAWS", "MusterHTTP", "MusterService",
                                   "MusterMessaging", "MusterEvents", "MusterKafka", "MusterPostgres", "TestSupport",
                                   lifecycle],
                    swiftSettings: swiftSettings),
        .testTarget(name: "PlannerTests",
                    dependencies: ["PlannerApp", "MusterHTTP", "MusterService", "MusterMessaging", "MusterEvents",
                                   "MusterKafka", "MusterPostgres", "TestSupport", "MusterCLIKit", "MusterAPI", hummingbird, crypto, lifecycle,
                                   .product(name: "_CryptoExtras", package: "swift-crypto")],
                    resources: [.copy("Resources")], swiftSettings: swiftSettings),
        .testTarget(name: "NotifierTests",
                    dependencies: ["NotifierApp", "MusterHTTP", "MusterService", "MusterMessaging", "MusterEvents",
                                   "MusterKafka", "MusterPostgres", "TestSupport", "MusterAPI", hummingbird, crypto, lifecycle],
                    swiftSettings: swiftSettings),
        .testTarget(name: "PollerTests",
                    dependencies: ["PollerApp", "MusterService", "MusterMessaging", "MusterEvents", "MusterKafka",
                                   "MusterPostgres", "TestSupport", log, lifecycle],
                    swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["MusterCLIKit"], swiftSettings: swiftSettings),
        .testTarget(name: "ConsoleTests", dependencies: ["MusterConsole"], swiftSettings: swiftSettings),
        .testTarget(name: "ServiceTests",
                    // Boots the built executables as processes (scripts/test.sh builds them first).
                    dependencies: ["MusterService", "MusterHTTP", "MusterEvents", "TestSupport", lifecycle],
                    swiftSettings: swiftSettings),
    ]
)
