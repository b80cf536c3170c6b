"""Local labs that stand in for the city's infrastructure in tests: real processes on this machine."""
