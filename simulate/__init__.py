"""SimPy models of the city's cloud and networks: capacity, backup/DR and rollout.

Each model is a library function returning plain data (`simulate.capacity.run`,
`simulate.backup.run`, `simulate.rollout.run`, `simulate.validate.run`); `govctl simulate`
writes their reports. See simulate/README.md.
"""
