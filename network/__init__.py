"""The extranet's IPv6 address plan (with its lock file) and the per-vendor device configs.

`network.plan.plan_city(model, settings, lock) -> Plan` allocates; `network.lock` keeps the
allocations stable between runs; `network.render.render_device(model, plan, hostname)`
turns one device into config text from its platform's Jinja2 template.
"""
