"""The `switchboard` command: each subcommand in its own module, imported only when run."""
