import Metrics
import Prometheus

/// Process-wide metrics set-up: swift-metrics backed by a Prometheus registry
/// that the ops server renders on `/metrics`.
public enum MetricsSetup {
    /// Bootstraps swift-metrics once and returns the registry to render.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
