"""Docs generated from the commands themselves: ``python -m scot_cli.commands.docgen``.

Writes ``docs/conventions.md`` (every input and shared option, short flags, renamed options,
exit codes, streams) and the synopsis of each ``docs/commands/<page>.md`` between its
``<!-- generated:synopsis -->`` markers; ``make docs`` runs it and a test fails when a page
drifts from what it would write.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.main import get_command

from scot_cli.errors import EXIT_CODES
from scot_cli.schema import INPUT_TABLES

from ._common import RENAMED, TABLE_HELP
from .main import app

START, END = "<!-- generated:synopsis -->", "<!-- /generated:synopsis -->"
#: Width of a synopsis line (pages are read in 100-column editors and terminals).
WIDTH = 96
#: Metavar of an option without one, by its value type.
TYPE_METAVARS = {"int": "N", "float": "X"}


def commands() -> Iterator[tuple[str, Any]]:
    """``(path, command)`` of every visible leaf command; a group's default command is
    listed under the group's name (``forecast``), its others as ``forecast evaluate``."""
    root = get_command(app)
    for name in root.list_commands(None):  # type: ignore[attr-defined]
        command = root.commands[name]  # type: ignore[attr-defined]
        if command.hidden:
            continue
        if not hasattr(command, "commands"):
            yield name, command
            continue
        default = getattr(command, "default_command", None)
        for sub, leaf in command.commands.items():
            if not leaf.hidden:
                yield (name if sub == default else f"{name} {sub}"), leaf


def _options(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option" and not p.hidden]


def _long(param: Any) -> str:
    return str(max(param.opts, key=len))


def _kind(param: Any) -> str:
    return str(param.bare_type()) if hasattr(param, "bare_type") else "str"


def _is_table(param: Any) -> bool:
    """An option reading an input table: named after it, taking a path (``fixtures
    --orders N`` is a count)."""
    return _long(param).removeprefix("--") in TABLE_HELP and _kind(param) not in TYPE_METAVARS


def _metavar(param: Any) -> str:
    if param.metavar:
        return str(param.metavar)
    callback = param.callback
    if getattr(callback, "scot_folder", False):
        return "DIR"
    if _is_table(param) or getattr(callback, "scot_output", False) or _long(param).endswith("-out"):
        return "FILE"
    default = param.default
    if isinstance(default, int | float) and not isinstance(default, bool) and default:
        return f"{default:g}"  # a number's default says more than N
    return TYPE_METAVARS.get(_kind(param), str(param.name).upper())


def synopsis(path: str, command: Any) -> str:
    """``scot PATH ARGS --required X [--optional Y] [--flag]``, wrapped at :data:`WIDTH`."""
    words = [
        str(p.metavar or p.name).upper() for p in command.params if p.param_type_name == "argument"
    ]
    for param in _options(command):
        if _long(param) == "--help":
            continue
        word = _long(param) if param.is_flag else f"{_long(param)} {_metavar(param)}"
        words.append(word if param.required else f"[{word}]")
    lines = [f"scot {path}"]
    for word in words:  # an option and its value stay on one line
        if len(lines[-1]) + 1 + len(word) > WIDTH:
            lines.append("   ")
        lines[-1] += f" {word}"
    return "\n".join(lines)


def page_commands(page: str) -> list[tuple[str, Any]]:
    """The commands a ``docs/commands/<page>.md`` documents: the command and its subcommands."""
    return [(path, cmd) for path, cmd in commands() if path.split()[0] == page]


def synopsis_block(page: str) -> str:
    """The generated block of a command page, markers included."""
    body = "\n".join(synopsis(path, cmd) for path, cmd in page_commands(page))
    return f"{START}\n```text\n{body}\n```\n{END}"


def with_synopsis(text: str, page: str) -> str:
    """``text`` (a command page) with its synopsis block regenerated; the markers are
    placed after the first paragraph under the title when the page has none yet."""
    block = synopsis_block(page)
    if START in text and END in text:
        before, rest = text.split(START, 1)
        return before + block + rest.split(END, 1)[1]
    paragraphs = re.split(r"(\n\n+)", text)
    # [title, sep, first paragraph, sep, ...]: insert after the first paragraph
    head = "".join(paragraphs[:3])
    tail = "".join(paragraphs[3:]).lstrip("\n")
    return f"{head}\n\n{block}\n\n{tail}"


# docs/conventions.md


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _first_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _uses() -> dict[str, tuple[Any, list[str], str]]:
    """Option long name -> (a declaration, the commands using it, its meaning)."""
    found: dict[str, tuple[list[Any], list[str]]] = {}
    for path, command in commands():
        for param in _options(command):
            params, paths = found.setdefault(_long(param), ([], []))
            params.append(param)
            paths.append(path)
    return {
        name: (params[0], paths, _meaning(params, paths)) for name, (params, paths) in found.items()
    }


#: Most distinct help texts of one option listed command by command.
MAX_MEANINGS = 3


def _meaning(params: list[Any], paths: list[str]) -> str:
    """The option's help; where commands word it differently, each wording with its
    commands (or the most common one, when there are many)."""
    by_help: dict[str, list[str]] = {}
    for param, path in zip(params, paths, strict=True):
        by_help.setdefault(_first_line(param.help), []).append(path)
    if len(by_help) == 1:
        return next(iter(by_help))
    if len(by_help) > MAX_MEANINGS:
        return max(by_help, key=lambda h: len(by_help[h]))
    return "; ".join(f"{h.rstrip('.')} ({', '.join(p)})" for h, p in by_help.items())


def input_rows() -> list[list[str]]:
    """``[name, table, what it holds, commands]`` of every input option, then argument."""
    tables = {t.name: t.description for t in INPUT_TABLES}
    readers: dict[str, list[str]] = {}
    for path, command in commands():
        for param in _options(command):
            if _is_table(param):
                readers.setdefault(_long(param), []).append(path)
    rows = []
    for name, paths in sorted(readers.items()):
        table = name.removeprefix("--")
        meaning = tables.get(table) or _first_line(TABLE_HELP[table])
        rows.append([f"`{name}`", table, meaning, ", ".join(paths)])
    arguments: dict[str, list[str]] = {}
    for path, command in commands():
        for param in command.params:
            if param.param_type_name == "argument":
                arguments.setdefault(str(param.name), []).append(path)
    for name, paths in sorted(arguments.items()):
        meaning = tables.get(name, "") or _argument_help(name)
        rows.append([f"`{name.upper()}` (argument)", name, meaning, ", ".join(paths)])
    return rows


def _argument_help(name: str) -> str:
    for _, command in commands():
        for param in command.params:
            if param.param_type_name == "argument" and param.name == name:
                return _first_line(getattr(param, "help", ""))
    return ""


def conventions() -> str:
    """The text of ``docs/conventions.md``."""
    uses = _uses()
    shared = [
        [f"`{name}`", meaning, ", ".join(paths)]
        for name, (param, paths, meaning) in sorted(uses.items())
        if len(paths) > 1 and not _is_table(param) and name != "--help"
    ]
    shorts = sorted(
        {
            (short, _long(param), path)
            for path, command in commands()
            for param in _options(command)
            for short in param.opts
            if not short.startswith("--")
        }
    )
    short_rows: dict[tuple[str, str], list[str]] = {}
    for short, long, path in shorts:
        short_rows.setdefault((short, long), []).append(path)
    renamed = sorted(
        {
            (f"`{old}`", f"`{new}`", f"scot {command.removesuffix(' run')}")
            for command, mapping in RENAMED.items()
            for old, new in mapping.items()
        },
        key=lambda row: (row[2], row[0]),
    )
    lines = [
        "# Conventions",
        "",
        "What every scot command shares. Generated from the commands by `make docs`",
        "(`python -m scot_cli.commands.docgen`); a test fails when this page drifts.",
        "",
        "## Inputs: one name per table",
        "",
        "The same input has the same name in every command: an option named after its table,",
        "or the command's argument. Column lists are in [schemas.md](schemas.md).",
        "",
        *_table(["name", "table", "what it holds", "commands"], input_rows()),
        "",
        "## Options shared by several commands",
        "",
        *_table(["option", "meaning", "commands"], shared),
        "",
        "## Short flags",
        "",
        "Only `-o` (output), `-q` (quiet) and `-h` (help) mean the same everywhere; any other",
        "short flag belongs to one command.",
        "",
        *_table(
            ["flag", "long name", "commands"],
            [[f"`{s}`", f"`{lo}`", ", ".join(p)] for (s, lo), p in short_rows.items()],
        ),
        "",
        "`-q`/`--quiet` and `--debug` go before or after the subcommand (`scot forecast ... -q`).",
        "",
    ]
    if renamed:
        lines += [
            "## Renamed options",
            "",
            "Old names still work for one release, with a deprecation warning on stderr.",
            "",
            *_table(["old name", "new name", "command"], [list(row) for row in renamed]),
            "",
        ]
    lines += [
        "## Streams",
        "",
        "- `-` as an input path reads stdin; `-o -` (or no `-o`, where the output may go to",
        "  stdout) writes stdout. Binary Parquet is refused on a terminal: pipe it into another",
        "  command or give a file.",
        "- stdout carries data only; messages, warnings and progress go to stderr.",
        "- Outputs are written atomically (a temporary file beside the target, then a rename)",
        "  and carry their provenance (command, parameters, seed, input hashes) in the Parquet",
        "  metadata: `scot inspect FILE` shows it.",
        "",
        "## Exit codes",
        "",
        *_table(["code", "meaning"], [[str(c), m] for c, m in EXIT_CODES.items()]),
        "",
    ]
    return "\n".join(lines)


def generated(root: Path) -> dict[Path, str]:
    """Every generated file under ``root`` and the text it should hold."""
    files = {root / "docs" / "conventions.md": conventions()}
    for page in sorted((root / "docs" / "commands").glob("*.md")):
        if page_commands(page.stem):
            files[page] = with_synopsis(page.read_text(), page.stem)
    return files


def main(argv: list[str] | None = None) -> int:
    """Write the generated docs under the repository root (the current folder by default)."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(".")
    for path, text in generated(root).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
