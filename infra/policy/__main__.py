"""govcloud's policy pack: the security rules of the government cloud, enforced at preview.

Run with `pulumi preview --policy-pack infra/policy`. The rules themselves are in
`infra/policy/rules.py`.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from infra.policy import rules

MANDATORY = EnforcementLevel.MANDATORY

PolicyPack(
    name="govcloud",
    enforcement_level=MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="sensitive-only-isolated",
            description=rules.sensitive_only_isolated.__doc__,
            validate=rules.sensitive_only_isolated,
        ),
        ResourceValidationPolicy(
            name="workload-requests-limits",
            description=rules.requests_and_limits.__doc__,
            validate=rules.requests_and_limits,
        ),
        ResourceValidationPolicy(
            name="no-privileged-containers",
            description=rules.no_privileged.__doc__,
            validate=rules.no_privileged,
        ),
        StackValidationPolicy(
            name="tenant-namespace-hardened",
            description=rules.tenants_hardened.__doc__,
            validate=rules.tenants_hardened,
        ),
    ],
)
