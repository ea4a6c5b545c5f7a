"""The `medo1` command line: one subcommand per stage. Commands only parse and delegate; each module
below registers its commands on the one app."""

from medo1.cli import data, export, runs, stages, training, verifier  # noqa: F401  (registers the commands)
from medo1.cli.app import app, main

__all__ = ["app", "main"]
