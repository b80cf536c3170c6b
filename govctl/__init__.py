"""`govctl`: the one front door. Each subcommand is a thin shell over a library function."""
