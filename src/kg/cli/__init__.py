"""The ``kg`` command: a thin layer over the library."""

from kg.cli.commands import main

__all__ = ["main"]
