"""The rollout inventory, built from the city model and its IPv6 plan.

One builder for every inventory: the Ansible inventory plugin
(`inventory_plugins/govcloud_extranet.py`) calls it for a real city, `govctl lab up` calls it
for the namespace lab and writes the result as `.lab/inventory.yml`, and `govctl net push`
reads either. Groups are the extranet's levels (`city`, `county`, `township`, `village`,
the rollout order) plus one group per platform; each host carries what the rollout needs:
management address, platform and Netmiko device type, its parent and the parent's IPv6
loopback (the ping6 post-check), and the uplink interfaces whose OSPFv3 neighbours must be Full.
Secrets are never in it: the password comes from the environment or ansible-vault.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from model.schema import LEVELS
from network.platforms import device_platform, facts


def variant(dev) -> dict:
    """`platform_variant` for a device driven as another platform than its model's (VRP V8
    on NE/CE families): the playbook passes it to the driver as the platform."""
    v = device_platform(dev)
    return {"platform_variant": v} if v != dev.platform.value else {}


def build_inventory(
    model, plan, host_vars: dict[str, dict] | None = None, group_vars: dict | None = None
) -> dict:
    """An Ansible YAML inventory (plain dict) for every device of `model`."""
    host_vars = host_vars or {}
    devices = model.devices_by_hostname
    loopbacks = plan.loopback_of
    groups: dict[str, dict] = {level: {"hosts": {}} for level in LEVELS}
    platforms: dict[str, dict] = {}
    for site in model.sites():
        for dev in site.devices:
            managed = [u for u in dev.uplinks if u.peer in devices]
            parent = managed[0].peer if managed else None
            hv = {
                "ansible_host": dev.mgmt_ipv4,
                "platform": dev.platform.value,
                "netmiko_device_type": facts(device_platform(dev)).netmiko_device_type,
                "level": site.level,
                "site": site.code,
                "parent": parent,
                "loopback": loopbacks.get(dev.hostname),
                "parent_loopback": loopbacks.get(parent) if parent else None,
                "uplinks": [u.interface for u in managed if u.interface],
                **variant(dev),
                **host_vars.get(dev.hostname, {}),
            }
            groups[site.level]["hosts"][dev.hostname] = hv
            platforms.setdefault(f"platform_{dev.platform.value}", {"hosts": {}})["hosts"][
                dev.hostname
            ] = None
    base_vars = {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    return {
        "all": {"vars": {**base_vars, **(group_vars or {})}, "children": {**groups, **platforms}}
    }


def hosts(inventory: dict) -> list[dict]:
    """Flatten an inventory built here: one dict per host (`name` plus its vars, group vars merged)."""
    top = inventory["all"]
    common = dict(top.get("vars") or {})
    out = []
    for level in LEVELS:
        for name, hv in ((top["children"].get(level) or {}).get("hosts") or {}).items():
            out.append({"name": name, **common, **(hv or {})})
    return out


def load(path: Path) -> dict:
    """Read an inventory file: a static one written here, or a `plugin: govcloud_extranet` config."""
    data = yaml.safe_load(Path(path).read_text())
    if isinstance(data, dict) and data.get("plugin") in ("govcloud_extranet", "govcloud.extranet"):
        return from_plugin_config(data, Path(path).parent)
    if not isinstance(data, dict) or "all" not in data:
        raise ValueError(f"{path}: not an inventory written by govcloud (no 'all' group)")
    return data


def from_plugin_config(cfg: dict, base: Path) -> dict:
    """The inventory a `plugin: govcloud_extranet` file describes (model, lock, vars)."""
    from model import load_city
    from network.lock import open_lock
    from network.plan import plan_city

    model = load_city(base / cfg["model"])
    lock = None
    if cfg.get("lock"):
        with open_lock(base / cfg["lock"], model) as opened:
            lock = opened.lock
    plan = plan_city(model, None, lock)
    return build_inventory(model, plan, group_vars=cfg.get("vars") or {})
