"""Thin typer modules, one per subcommand (installed as ``scot_cli.commands``)."""
