"""The Pulumi program (`Pulumi.yaml`: `main: infra/`): read stack config once, deploy, export.

Everything below this file takes plain data; this is the only place that reads config or
files. Paths in the stack config (`model`, `renderDir`, kubeconfigs) are relative to the
project root (where `Pulumi.yaml` is), whatever directory the engine runs the program in.
"""

import os

import pulumi

from infra import modelcache
from infra.program import deploy
from infra.settings import from_config, rooted

settings = rooted(from_config(pulumi.Config("govcloud")), pulumi.get_root_directory())
model = modelcache.load(settings.model, os.environ.get(modelcache.ENV))
for key, value in deploy(model, settings).items():
    pulumi.export(key, value)
