"""A crafted stack for the policy-pack test: a sensitive system on the cluster config names.

The model's rules (`model/rules.py`) and the planner (`infra/plan.py`) refuse to put a
sensitive system anywhere but an isolated cluster, so the real program can never hand such
a placement to the engine. The policy pack is the last line of defence for data that got
past both; to test it under the real engine this program builds the program's own
components (`DepartmentTenant`, `SystemWorkload`) for the city's first sensitive system on
the cluster `govcloud:zone` names, with a render-mode provider. `zone: isolated` is allowed;
`zone: shared` is the misplacement the pack must block.
"""

import pulumi
import pulumi_kubernetes as k8s

from infra import plan as planner
from infra.settings import from_config
from infra.tenant import DepartmentTenant
from infra.workload import SystemWorkload
from model import load_city

cfg = pulumi.Config("govcloud")
settings = from_config(cfg)
zone = cfg.require("zone")
m = load_city(settings.model)
cluster = planner.clusters(m)[0][zone]
system = next(s for s in m.systems if s.classification.value == "sensitive" and s.cloud_bound)
dept = m.departments_by_code[system.department]
provider = k8s.Provider(zone, render_yaml_to_directory=f"{settings.render_dir}/{zone}")
tenant = DepartmentTenant(
    f"{zone}-{dept.slug}",
    dept,
    cluster,
    data_class="sensitive",
    ingress_namespace=settings.ingress_namespace,
    opts=pulumi.ResourceOptions(provider=provider),
)
SystemWorkload(
    f"{zone}-{system.id}",
    system,
    dept,
    cluster,
    replicas=system.replicas,
    registry=settings.registry,
    opts=pulumi.ResourceOptions(provider=provider, depends_on=[tenant.namespace_resource]),
)
pulumi.export("system", system.id)
