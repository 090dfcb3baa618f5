"""`python -m api COMMAND`: see api.cli."""

from .cli import main

main()
