"""govcloud's test suite (unit, property, integration)."""
