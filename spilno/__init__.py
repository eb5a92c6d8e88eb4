"""The `spilno` command-line entry point."""
