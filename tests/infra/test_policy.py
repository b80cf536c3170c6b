"""infra/policy/rules.py: each policy's validate function, called directly.

Props are wrapped in pulumi-policy's `unknown_checking_proxy`, as the engine's analyzer hands
them to the rules (read-only Mappings, not dicts)."""

from __future__ import annotations

from pulumi_policy import (
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from infra import conventions as cv
from infra.policy import rules
from infra.policy.offline import OPTS

DEPLOY = "kubernetes:apps/v1:Deployment"


def args(resource_type: str, props: dict, name: str = "r") -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(props),
        f"urn:pulumi:s::p::{resource_type}::{name}",
        name,
        OPTS,
        None,
    )


def violations(rule, a) -> list[str]:
    out: list[str] = []
    rule(a, lambda msg, urn=None: out.append(msg))
    return out


def deployment(**container) -> dict:
    c = {
        "name": "app",
        "image": "i",
        "resources": {
            "requests": {"cpu": "1", "memory": "1Gi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "securityContext": {"allowPrivilegeEscalation": False},
    } | container
    return {
        "metadata": {"name": "x", "labels": {}},
        "spec": {"template": {"spec": {"containers": [c]}}},
    }


def test_sensitive_only_isolated():
    ok = {"metadata": {"labels": {cv.DATA_CLASS: "sensitive", cv.ZONE_KIND: "isolated"}}}
    assert violations(rules.sensitive_only_isolated, args(DEPLOY, ok)) == []
    for kind in ("shared", "xinchuang", "dr"):
        bad = {"metadata": {"labels": {cv.DATA_CLASS: "sensitive", cv.ZONE_KIND: kind}}}
        assert len(violations(rules.sensitive_only_isolated, args(DEPLOY, bad))) == 1
    plain = {"metadata": {"labels": {cv.DATA_CLASS: "non_classified", cv.ZONE_KIND: "shared"}}}
    assert (
        violations(rules.sensitive_only_isolated, args("kubernetes:core/v1:Namespace", plain)) == []
    )


def test_requests_and_limits():
    assert violations(rules.requests_and_limits, args(DEPLOY, deployment())) == []
    v = violations(
        rules.requests_and_limits, args(DEPLOY, deployment(resources={"requests": {"cpu": "1"}}))
    )
    assert len(v) == 1 and "requests.memory" in v[0] and "limits.cpu" in v[0]
    cron = {
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}}
    }
    assert (
        len(violations(rules.requests_and_limits, args("kubernetes:batch/v1:CronJob", cron))) == 1
    )
    assert (
        violations(rules.requests_and_limits, args("kubernetes:core/v1:Service", {"spec": {}}))
        == []
    )


def test_no_privileged():
    assert violations(rules.no_privileged, args(DEPLOY, deployment())) == []
    assert (
        len(
            violations(
                rules.no_privileged,
                args(
                    DEPLOY,
                    deployment(
                        securityContext={"privileged": True, "allowPrivilegeEscalation": False}
                    ),
                ),
            )
        )
        == 1
    )
    assert len(violations(rules.no_privileged, args(DEPLOY, deployment(securityContext={})))) == 1
    host = deployment()
    host["spec"]["template"]["spec"]["hostNetwork"] = True
    assert violations(rules.no_privileged, args(DEPLOY, host)) == ["r uses hostNetwork"]


def _res(resource_type: str, props: dict, cluster: str = "shared") -> PolicyResource:
    prov = PolicyProviderResource(
        "pulumi:providers:kubernetes",
        {},
        f"urn:pulumi:s::p::pulumi:providers:kubernetes::{cluster}",
        cluster,
    )
    name = props["metadata"]["name"]
    return PolicyResource(
        resource_type,
        unknown_checking_proxy(props),
        f"urn:{cluster}:{resource_type}:{name}",
        name,
        OPTS,
        prov,
        None,
        [],
        {},
    )


def _tenant(cluster: str = "shared") -> list[PolicyResource]:
    md = {"namespace": "fgw", "labels": {}}
    return [
        _res(
            rules.NAMESPACE,
            {
                "metadata": {
                    "name": "fgw",
                    "labels": {
                        cv.DEPARTMENT: "FGW",
                        "pod-security.kubernetes.io/enforce": "restricted",
                    },
                }
            },
            cluster,
        ),
        _res(
            rules.QUOTA,
            {"metadata": {**md, "name": "quota"}, "spec": {"hard": {"requests.cpu": "1"}}},
            cluster,
        ),
        _res(
            rules.LIMIT_RANGE,
            {"metadata": {**md, "name": "limits"}, "spec": {"limits": []}},
            cluster,
        ),
        _res(
            rules.NETWORK_POLICY,
            {
                "metadata": {**md, "name": "default-deny"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
            cluster,
        ),
    ]


def stack_violations(resources) -> list[str]:
    out: list[str] = []
    rules.tenants_hardened(StackValidationArgs(resources), lambda msg, urn=None: out.append(msg))
    return out


def test_tenants_hardened():
    assert stack_violations(_tenant()) == []
    for i, label in ((1, "ResourceQuota"), (2, "LimitRange"), (3, "default-deny")):
        res = _tenant()
        del res[i]
        v = stack_violations(res)
        assert len(v) == 1 and label in v[0]
    # a policy that also allows something is not a default deny
    res = _tenant()
    res[3] = _res(
        rules.NETWORK_POLICY,
        {
            "metadata": {"namespace": "fgw", "name": "default-deny"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        },
    )
    assert len(stack_violations(res)) == 1
    # the guard rails must be on the same cluster as the namespace
    assert stack_violations(_tenant("shared")[:1] + _tenant("dr-dc")[1:]) == [
        "tenant namespace fgw has no ResourceQuota, LimitRange, default-deny NetworkPolicy"
    ]
    res = _tenant()
    ns = {
        "metadata": {
            "name": "fgw",
            "labels": {cv.DEPARTMENT: "FGW", "pod-security.kubernetes.io/enforce": "baseline"},
        }
    }
    res[0] = _res(rules.NAMESPACE, ns)
    assert stack_violations(res) == [
        "tenant namespace fgw does not enforce Pod Security restricted"
    ]
