"""Ansible inventory plugin: the extranet's devices from the city model and its IPv6 lock.

A thin shell over `playbooks.inventory.build_inventory` (the builder the lab uses too).
Use a file ending in `.govcloud.yml`:

    plugin: govcloud_extranet
    model: ../examples/sample-city        # relative to this file
    lock: ../network/ipam.lock.yaml
    vars: {net_username: netops}           # optional group vars for `all`
"""

from __future__ import annotations

from pathlib import Path

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

DOCUMENTATION = r"""
name: govcloud_extranet
short_description: govcloud extranet devices from the city model
description: Builds groups per extranet level (city, county, township, village) and per platform.
options:
  plugin: {description: the name of this plugin, required: true, choices: [govcloud_extranet]}
  model: {description: city model directory, required: true}
  lock: {description: IPv6 plan lock file, required: false}
  vars: {description: variables for the all group, type: dict, default: {}}
"""


class InventoryModule(BaseInventoryPlugin):
    NAME = "govcloud_extranet"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".govcloud.yml", ".govcloud.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        cfg = self._read_config_data(path)
        try:
            from playbooks.inventory import from_plugin_config

            data = from_plugin_config(
                {k: self.get_option(k) for k in ("model", "lock", "vars")}, Path(path).parent
            )
        except Exception as exc:  # a model error is the user's to fix: show it, no traceback
            errors = getattr(exc, "errors", None)
            detail = "; ".join(map(str, errors)) if errors else str(exc)
            raise AnsibleParserError(f"govcloud_extranet {path}: {detail}") from exc
        del cfg
        top = data["all"]
        for key, value in (top.get("vars") or {}).items():
            self.inventory.set_variable("all", key, value)
        for group, body in top["children"].items():
            self.inventory.add_group(group)
            for host, hv in (body.get("hosts") or {}).items():
                self.inventory.add_host(host, group=group)
                for key, value in (hv or {}).items():
                    self.inventory.set_variable(host, key, value)
