"""The Pulumi program (`Pulumi.yaml`: `main: infra/`), as plain `pulumi` runs it.

Everything below this file takes plain data; `infra.program.main` is the only place that
reads config or files. Paths in the stack config (`model`, `renderDir`, kubeconfigs) are
relative to the project root (where `Pulumi.yaml` is), whatever directory the engine runs the
program in.
"""

import pulumi

from infra.program import main
from model import load_city

main(pulumi.get_root_directory(), load_city)
