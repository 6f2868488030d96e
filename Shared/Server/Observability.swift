import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics. Both backends can be bootstrapped once per process;
/// tests start many services in one process, so the first caller wins and the rest reuse.
public enum Observability {
    /// The registry `/metrics` renders. Bootstraps swift-metrics on first use.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Logs to standard error, one line per entry, at the configured level.
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Prometheus text exposition of every metric of the process.
    public static func renderMetrics() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
