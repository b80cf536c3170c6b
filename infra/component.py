"""What every govcloud component does: register the plain-data objects of `infra/build.py`.

`KubeObject` is one Kubernetes object as a Pulumi custom resource of the provider's own type
(`kubernetes:apps/v1:Deployment`, …) whose inputs are the manifest itself, exactly as the
typed classes of pulumi-kubernetes would send it; `Component` registers a builder's objects
as its children, each waiting for the ones its `after` names.
"""

from __future__ import annotations

import pulumi

from infra.build import Obj, type_token


class KubeObject(pulumi.CustomResource):
    """A Kubernetes object given as its manifest (camelCase keys, as the API takes it)."""

    def __init__(self, name: str, manifest: dict, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token(manifest), name, dict(manifest), opts)


class Component(pulumi.ComponentResource):
    """A component whose children are the objects one builder returned."""

    TYPE = "govcloud:infra:Component"

    def __init__(
        self, name: str, objects: list[Obj], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.children: dict[str, KubeObject] = {}
        for o in objects:
            deps = [self.children[a] for a in o.after]
            self.children[o.name] = KubeObject(
                o.name, o.manifest, pulumi.ResourceOptions(parent=self, depends_on=deps)
            )
