"""The govcloud program: one stack's providers and components, or the whole city's.

`main(root, load)` is the program: it reads the stack's config, deploys and exports.
`infra/__main__.py` runs it under plain `pulumi`; the orchestrator runs it inline, in its own
process with the model it has loaded (`infra/orchestrate.py`). `deploy(model, settings)`
registers the resources: the stack config's `govcloud:scope` names the stack
(`platform/<cluster>` or `department/<slug>`, see `infra/stacks.py`); without it the program
deploys every stack's units in one (the all-in-one stack of `Pulumi.sample.yaml`). It
returns the outputs (plain data) to export.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_kubernetes as k8s

from infra import plan as planner
from infra import stacks as st
from infra.dr import BackupLocations, BackupSchedule
from infra.settings import NAMESPACE, StackSettings, from_config, rooted
from infra.storage import EncryptedStorage
from infra.tenant import DepartmentTenant
from infra.workload import DrReplica, SystemWorkload
from model.city import CityModel

COMPONENTS = {
    st.TENANT: DepartmentTenant,
    st.WORKLOAD: SystemWorkload,
    st.REPLICA: DrReplica,
    st.LOCATIONS: BackupLocations,
    st.SCHEDULE: BackupSchedule,
    st.STORAGE: EncryptedStorage,
}


def cluster_provider(name: str, settings: StackSettings) -> k8s.Provider:
    """The Kubernetes provider of one cluster: its kubeconfig context, or a render directory."""
    c = settings.cluster(name)
    if settings.render_dir:
        return k8s.Provider(name, render_yaml_to_directory=f"{settings.render_dir}/{name}")
    return k8s.Provider(
        name, context=c.context, kubeconfig=c.kubeconfig, enable_server_side_apply=True
    )


def deploy(m: CityModel, settings: StackSettings) -> dict:
    p = planner.plan(m, settings.wave, settings.failover)
    chosen = st.select(st.city_stacks(m, p, settings), settings.scope)
    clusters = sorted({c for s in chosen for c in s.clusters})
    providers = {name: cluster_provider(name, settings) for name in clusters}
    registered: dict[str, pulumi.Resource] = {}
    for stack in chosen:
        for u in stack.units:
            opts = pulumi.ResourceOptions(
                provider=providers[u.cluster], depends_on=[registered[a] for a in u.after]
            )
            component = COMPONENTS[u.type](u.name, **u.args, opts=opts)
            registered.update(component.children)
    if settings.scope is None:
        return st.outputs(m, p, settings)
    return st.stack_outputs(m, chosen[0], settings)


def main(root: str, load: Callable[[str], CityModel]) -> None:
    """Read this stack's config (paths relative to `root`, the project root), load the model
    it names with `load`, deploy, export the outputs."""
    settings = rooted(from_config(pulumi.Config(NAMESPACE)), root)
    for key, value in deploy(load(settings.model), settings).items():
        pulumi.export(key, value)
