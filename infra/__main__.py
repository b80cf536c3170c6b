"""The Pulumi program (`Pulumi.yaml`: `main: infra/`): read stack config once, deploy, export.

Everything below this file takes plain data; this is the only place that reads config or
files.
"""

import pulumi

from infra.program import deploy
from infra.settings import from_config
from model import load_city

settings = from_config(pulumi.Config("govcloud"))
for key, value in deploy(load_city(settings.model), settings).items():
    pulumi.export(key, value)
