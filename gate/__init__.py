"""The go/no-go gate over every part of the plan, and the city report.

`gate.checks.evaluate` runs the checks (fit, IPv6, tenants, capacity, backup) and
`gate.checks.summary` turns a run into the JSON `govctl plan` prints; `gate.report.build`
writes the city report (`govctl report`). See gate/README.md.
"""
