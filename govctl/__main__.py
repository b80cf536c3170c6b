"""`python -m govctl` is the same as the `govctl` console script."""

from govctl.app import run

run()
