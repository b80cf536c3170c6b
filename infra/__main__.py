"""The Pulumi program (`Pulumi.yaml`: `main: infra/`): read stack config once, deploy, export.

Everything below this file takes plain data; this is the only place that reads config or
files. Paths in the stack config (`model`, `renderDir`, kubeconfigs) are relative to the
project root (where `Pulumi.yaml` is), whatever directory the engine runs the program in.
"""

import pulumi

from infra.program import deploy
from infra.settings import from_config, rooted
from model import load_city

settings = rooted(from_config(pulumi.Config("govcloud")), pulumi.get_root_directory())
for key, value in deploy(load_city(settings.model), settings).items():
    pulumi.export(key, value)
