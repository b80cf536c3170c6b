"""The policy pack run over rendered manifests, without the engine.

`govctl plan` and the render tests call this on what `infra.render` produced; the same
validate functions run inside `pulumi preview --policy-pack infra/policy`. Objects reach
the rules wrapped in pulumi-policy's `unknown_checking_proxy`, exactly as the engine's
analyzer hands them over (read-only Mappings, not dicts).
"""

from __future__ import annotations

from dataclasses import dataclass

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from infra.policy import rules

OPTS = PolicyResourceOptions(
    protect=False,
    ignore_changes=[],
    delete_before_replace=None,
    aliases=[],
    additional_secret_outputs=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0),  # what the policy server passes when unset
    parent=None,
)
RESOURCE_RULES = {
    "sensitive-only-isolated": rules.sensitive_only_isolated,
    "workload-requests-limits": rules.requests_and_limits,
    "no-privileged-containers": rules.no_privileged,
}


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str


def type_token(obj: dict) -> str:
    group, _, version = obj["apiVersion"].rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{obj['kind']}"


def check(objects: dict[str, list[dict]]) -> list[Violation]:
    """Every violation of the pack by `objects` (cluster → Kubernetes objects)."""
    out: list[Violation] = []
    resources = []
    for cluster, objs in objects.items():
        prov = PolicyProviderResource(
            "pulumi:providers:kubernetes", {}, f"urn:provider::{cluster}", cluster
        )
        for o in objs:
            token = type_token(o)
            name = f"{cluster}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
            props = unknown_checking_proxy(o)
            a = ResourceValidationArgs(token, props, f"urn:{token}::{name}", name, OPTS, prov)
            for policy, rule in RESOURCE_RULES.items():
                rule(
                    a,
                    lambda msg, urn=None, policy=policy, name=name: out.append(
                        Violation(policy, name, msg)
                    ),
                )
            resources.append(PolicyResource(token, props, a.urn, name, OPTS, prov, None, [], {}))
    rules.tenants_hardened(
        StackValidationArgs(resources),
        lambda msg, urn=None: out.append(Violation("tenant-namespace-hardened", urn or "", msg)),
    )
    return out
