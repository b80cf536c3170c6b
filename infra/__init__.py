"""The government cloud as a Pulumi program: department tenants, migrated workloads, DR.

`infra/__main__.py` is the program Pulumi runs (`Pulumi.yaml` at the repository root points
here); it reads stack config once and hands plain data to the component resources in
`infra/tenant.py`, `infra/workload.py` and `infra/dr.py`. `infra/plan.py` decides where
everything goes without touching Pulumi; `infra/render.py` runs the same program under
Pulumi's mocks to write the Kubernetes objects as YAML.
"""
