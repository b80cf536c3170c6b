"""Stack settings: everything the program takes from `Pulumi.<stack>.yaml`, as plain data.

`from_config` is the only function that reads Pulumi config; `infra.program.main` calls it
once per program run. `to_config` is its inverse: `infra/engine.py` writes a stack's config
from it, and `ConfigValues` lets `from_config` read a stack's config back as plain data. Keys
(namespace `govcloud:`):

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
| `scope` | the stack's part of the city: `platform/<cluster>` or `department/<slug>` (none: all of it) |
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

NAMESPACE = "govcloud"


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
    scope: str | None = None  # platform/<cluster> | department/<slug>; None: the whole city

    def cluster(self, name: str) -> ClusterConfig:
        return self.clusters.get(name, ClusterConfig())

    def object_store(self, site: str) -> str:
        return self.object_stores.get(site, f"https://s3.{site}.govcloud.internal")


def from_config(cfg) -> StackSettings:
    """Read the `govcloud:` keys from a `pulumi.Config("govcloud")`."""
    clusters = {
        name: ClusterConfig(c.get("context"), c.get("kubeconfig"), c.get("storageClass"))
        for name, c in (cfg.get_object("clusters") or {}).items()
    }
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
        scope=cfg.get("scope"),
    )


def to_config(settings: StackSettings) -> dict[str, Any]:
    """The stack config (keys without the `govcloud:` namespace, plain JSON values) that
    `from_config` reads back as `settings`; defaults are left out."""
    clusters = {
        name: {
            k: v
            for k, v in (
                ("context", c.context),
                ("kubeconfig", c.kubeconfig),
                ("storageClass", c.storage_class),
            )
            if v is not None
        }
        for name, c in sorted(settings.clusters.items())
    }
    values = {
        "model": settings.model,
        "wave": settings.wave,
        "failover": sorted(settings.failover) or None,
        "clusters": clusters or None,
        "renderDir": settings.render_dir,
        "registry": settings.registry if settings.registry != StackSettings.registry else None,
        "ingressNamespace": settings.ingress_namespace
        if settings.ingress_namespace != StackSettings.ingress_namespace
        else None,
        "objectStores": dict(sorted(settings.object_stores.items())) or None,
        "skipAwait": settings.skip_await or None,
        "scope": settings.scope,
    }
    return {k: v for k, v in values.items() if v is not None}


class ConfigValues:
    """A `pulumi.Config`-like reader over plain values (`{"model": ..., "wave": 1}`; JSON
    strings for objects, as `pulumi config --json` gives them, are accepted too)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = {k.removeprefix(f"{NAMESPACE}:"): v for k, v in values.items()}

    def get(self, key: str) -> str | None:
        v = self._values.get(key)
        return v if v is None or isinstance(v, str) else json.dumps(v)

    def require(self, key: str) -> str:
        v = self.get(key)
        if v is None:
            raise KeyError(f"missing required configuration variable '{NAMESPACE}:{key}'")
        return v

    def get_int(self, key: str) -> int | None:
        v = self._values.get(key)
        return None if v is None else int(v)

    def get_bool(self, key: str) -> bool | None:
        v = self._values.get(key)
        return v if v is None or isinstance(v, bool) else str(v).lower() == "true"

    def get_object(self, key: str) -> Any:
        v = self._values.get(key)
        return json.loads(v) if isinstance(v, str) else v


def rooted(settings: StackSettings, root: str) -> StackSettings:
    """`settings` with its relative paths (model, render directory, kubeconfigs) made absolute
    against `root`, the project root: the engine runs the program in `infra/`, and the
    Kubernetes provider writes and reads files relative to its own working directory."""

    def at(path: str) -> str:
        return os.path.normpath(os.path.join(root, os.path.expanduser(path)))

    def is_path(kubeconfig: str | None) -> TypeGuard[str]:  # a kubeconfig's text also works
        return kubeconfig is not None and kubeconfig != "" and "\n" not in kubeconfig

    clusters = {
        n: replace(c, kubeconfig=at(c.kubeconfig)) if is_path(c.kubeconfig) else c
        for n, c in settings.clusters.items()
    }
    render_dir = None if settings.render_dir is None else at(settings.render_dir)
    return replace(settings, model=at(settings.model), render_dir=render_dir, clusters=clusters)
