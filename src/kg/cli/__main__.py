"""``python -m kg.cli``: the kg command."""

from kg.cli.commands import main

main()
