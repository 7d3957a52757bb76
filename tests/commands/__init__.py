"""Every command README shows, run by make test at least in a quick form (``make test-commands``)."""
