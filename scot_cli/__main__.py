"""``python -m scot_cli`` runs the command line."""

from scot_cli.commands.main import main

main()
