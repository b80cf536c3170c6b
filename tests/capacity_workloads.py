"""A stand-in for a Kubernetes cluster's cAdvisor and kube-state-metrics, for the real-Prometheus test.

Serves, on loopback, the series `capacity.sources.PrometheusSource` queries, for every system
of a city that has history: each replica is a pod in its department's namespace whose CPU
counter grows at the system's latest CPU sample (split over replicas) and whose working set is
its latest memory sample; `kube_pod_labels` carries `label_govcloud_system`. Noise the queries
must ignore is served too: pod-level (`container=""`) and pause (`container="POD"`) series, and
a pod without the label.

    python tests/capacity_workloads.py CITY_DIR --port N
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import start_http_server  # noqa: E402
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily  # noqa: E402
from prometheus_client.registry import CollectorRegistry  # noqa: E402

from model import load_city  # noqa: E402
from model.history import load_history  # noqa: E402


def pods(city_dir: Path) -> list[dict]:
    """One entry per pod: namespace, pod, system, CPU cores, memory bytes."""
    model = load_city(city_dir)
    history = load_history(model.history_path)
    out = []
    for system_id, series in sorted(history.items()):
        s = model.systems_by_id[system_id]
        ns = model.departments_by_code[s.department].slug
        for r in range(s.replicas):
            out.append(
                {
                    "namespace": ns,
                    "pod": f"{s.id}-{r}",
                    "system": s.id,
                    "cpu": float(series.cpu[-1]) / s.replicas,
                    "memory": float(series.memory[-1]) / s.replicas,
                }
            )
    out.append(
        {"namespace": "kube-system", "pod": "coredns-0", "system": None, "cpu": 5.0, "memory": 9e9}
    )
    return out


class Workloads:
    def __init__(self, pods: list[dict]):
        self.pods = pods
        self.t0 = time.time()

    def collect(self):
        elapsed = time.time() - self.t0
        cpu = CounterMetricFamily(
            "container_cpu_usage_seconds_total",
            "Cumulative cpu time consumed.",
            labels=["namespace", "pod", "container"],
        )
        mem = GaugeMetricFamily(
            "container_memory_working_set_bytes",
            "Current working set.",
            labels=["namespace", "pod", "container"],
        )
        labels = GaugeMetricFamily(
            "kube_pod_labels",
            "Kubernetes labels converted to Prometheus labels.",
            labels=["namespace", "pod", "label_govcloud_system"],
        )
        for p in self.pods:
            ns, pod = p["namespace"], p["pod"]
            cpu.add_metric([ns, pod, "app"], 1000 + p["cpu"] * elapsed)
            cpu.add_metric(
                [ns, pod, ""], 5000 + 7 * p["cpu"] * elapsed
            )  # pod-level total: must be ignored
            cpu.add_metric([ns, pod, "POD"], 10 + 3 * elapsed)  # pause container: must be ignored
            mem.add_metric([ns, pod, "app"], p["memory"])
            mem.add_metric([ns, pod, ""], 3 * p["memory"] + 1e9)
            mem.add_metric([ns, pod, "POD"], 1e6)
            if p["system"]:
                labels.add_metric([ns, pod, p["system"]], 1)
        yield from (cpu, mem, labels)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("city", type=Path)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Workloads(pods(args.city)))
    start_http_server(args.port, addr="127.0.0.1", registry=registry)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
