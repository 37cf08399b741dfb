"""What operators scrape, trace and read: Prometheus metrics, OpenTelemetry traces, JSON logs."""
