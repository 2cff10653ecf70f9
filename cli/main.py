"""`huiyin`, assembled: the root (cli/app.py) with every command group.

The groups register their commands on the root when imported; only this module imports
them, so nothing imports back into a module that imports it.
"""

from cli import deadletters, figures, issues
from cli.app import app

GROUPS = (deadletters, figures, issues)


def main() -> None:
    app(prog_name="huiyin")


__all__ = ["GROUPS", "app", "main"]
