"""`python -m lab.twins …`: run one vendor twin (see lab/twins/server.py)."""

from lab.twins.server import main

main()
