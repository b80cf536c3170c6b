"""Stack settings: everything the program takes from `Pulumi.<stack>.yaml`, as plain data.

`from_config` is the only function that reads Pulumi config; `infra/__main__.py` calls it
once. Keys (namespace `govcloud:`):

| key | meaning |
|---|---|
| `model` | city model directory (required), relative to the project root |
| `wave` | migration wave applied: legacy systems of waves ≤ this appear |
| `failover` | list of system ids whose DR replicas run (a DR drill or a real failover) |
| `clusters` | per cluster name: `{context, kubeconfig, storageClass}` |
| `renderDir` | write YAML under `<renderDir>/<cluster>/` instead of applying to clusters |
| `registry` | image registry (default `registry.govcloud.internal`) |
| `ingressNamespace` | namespace of the ingress controller (default `ingress-nginx`) |
| `objectStores` | per site name: the S3 URL of its object store |
| `skipAwait` | `true` on lab stacks only: workloads, volumes and Services carry `pulumi.com/skipAwait` |
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClusterConfig:
    context: str | None = None
    kubeconfig: str | None = None
    storage_class: str | None = None


@dataclass(frozen=True)
class StackSettings:
    model: str
    wave: int | None = None
    failover: frozenset[str] = frozenset()
    clusters: dict[str, ClusterConfig] = field(default_factory=dict)
    render_dir: str | None = None
    registry: str = "registry.govcloud.internal"
    ingress_namespace: str = "ingress-nginx"
    object_stores: dict[str, str] = field(default_factory=dict)
    skip_await: bool = False  # lab control planes have no nodes: nothing would ever become ready

    def cluster(self, name: str) -> ClusterConfig:
        return self.clusters.get(name, ClusterConfig())

    def object_store(self, site: str) -> str:
        return self.object_stores.get(site, f"https://s3.{site}.govcloud.internal")


def from_config(cfg) -> StackSettings:
    """Read the `govcloud:` keys from a `pulumi.Config("govcloud")`."""
    clusters = {name: ClusterConfig(c.get("context"), c.get("kubeconfig"), c.get("storageClass"))
                for name, c in (cfg.get_object("clusters") or {}).items()}
    return StackSettings(
        model=cfg.require("model"),
        wave=cfg.get_int("wave"),
        failover=frozenset(cfg.get_object("failover") or ()),
        clusters=clusters,
        render_dir=cfg.get("renderDir"),
        registry=cfg.get("registry") or StackSettings.registry,
        ingress_namespace=cfg.get("ingressNamespace") or StackSettings.ingress_namespace,
        object_stores=dict(cfg.get_object("objectStores") or {}),
        skip_await=bool(cfg.get_bool("skipAwait")),
    )
