"""Monitoring: the Prometheus exporter, recording and alerting rules, the Grafana dashboard."""
