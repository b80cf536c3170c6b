"""govcloud's policy pack: the security rules of the government cloud, enforced at preview.

Run with `pulumi preview --policy-pack infra/policy`. The rules themselves are in
`infra/policy/rules.py`.
"""

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from infra.policy import rules


def _doc(rule: Callable[..., object]) -> str:
    """A rule's docstring is its description (every rule has one)."""
    return rule.__doc__ or ""


MANDATORY = EnforcementLevel.MANDATORY

PolicyPack(
    name="govcloud",
    enforcement_level=MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="sensitive-only-isolated",
            description=_doc(rules.sensitive_only_isolated),
            validate=rules.sensitive_only_isolated,
        ),
        ResourceValidationPolicy(
            name="workload-requests-limits",
            description=_doc(rules.requests_and_limits),
            validate=rules.requests_and_limits,
        ),
        ResourceValidationPolicy(
            name="no-privileged-containers",
            description=_doc(rules.no_privileged),
            validate=rules.no_privileged,
        ),
        StackValidationPolicy(
            name="tenant-namespace-hardened",
            description=_doc(rules.tenants_hardened),
            validate=rules.tenants_hardened,
        ),
    ],
)
