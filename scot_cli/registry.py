"""One shape for every set of named choices: models, policies, methods, modes, solvers.

A :class:`Registry` maps a name to a value (a help string, or a spec object with a
``description``) and feeds behaviour (dispatch, validation) and the command's choices and
help alike::

    POLICIES = Registry("policy", {"base_stock": "order-up-to S", "ss": "(s,S)"})
    POLICIES.check("ss")            # raises OptionError("policy", ...) for unknown names
    POLICIES.synopsis()             # "base_stock|ss" (an option's metavar)
    POLICIES.describe()             # one "name: help" line per choice (``--help-models``)

Plain data: importing this module costs nothing, so ``scot --help`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Generic, TypeVar

from scot_cli.options import OptionError

__all__ = ["Registry", "optional_module"]

T = TypeVar("T")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    description = getattr(value, "description", None)
    if isinstance(description, str):
        return description
    if isinstance(value, tuple) and value and isinstance(value[-1], str):
        return value[-1]
    return ""


class Registry(Mapping[str, T], Generic[T]):
    """Named choices of one kind, in a fixed order, each with help text.

    Parameters
    ----------
    field
        The options field the choices are for (``"policy"``): errors name it.
    entries
        Name -> value, in the order help lists them.
    describe
        Help text of a value; by default the value itself when it is a string, else its
        ``description`` attribute.
    """

    def __init__(
        self,
        field: str,
        entries: Mapping[str, T],
        *,
        describe: Callable[[T], str] | None = None,
    ) -> None:
        self.field = field
        self._entries = dict(entries)
        self._describe = describe or _text

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.field!r}, {list(self._entries)!r})"

    def check(self, name: str, *, field: str | None = None) -> T:
        """The value of ``name``; :class:`OptionError` naming the field when unknown."""
        if name not in self._entries:
            raise OptionError(
                field or self.field,
                f"unknown value {name!r} (choose from {', '.join(self._entries)})",
            )
        return self._entries[name]

    def help(self, name: str) -> str:
        """The help text of one choice."""
        return self._describe(self._entries[name])

    def names(self) -> list[str]:
        """The names, in order."""
        return list(self._entries)

    def synopsis(self) -> str:
        """``a|b|c``: the names as an option's metavar."""
        return "|".join(self._entries)

    def one_line(self) -> str:
        """``a: help; b: help.``: every choice with its help on one line."""
        return "; ".join(f"{k}: {self.help(k)}" for k in self._entries) + "."

    def describe(self, *, width: int = 0) -> str:
        """One ``name  help`` line per choice (names padded to align), for long help."""
        width = width or max((len(k) for k in self._entries), default=0)
        return "\n".join(f"{k.ljust(width)}  {self.help(k)}" for k in self._entries)

    def subset(
        self, names: list[str] | tuple[str, ...], *, field: str | None = None
    ) -> Registry[T]:
        """A registry of some of these choices (same order as ``names``)."""
        return Registry(
            field or self.field, {n: self._entries[n] for n in names}, describe=self._describe
        )


def optional_module(name: str) -> ModuleType | None:
    """The module ``name``, or None when it is not installed (a module it imports that is
    missing is still an error): the command and table lists name modules a trimmed
    installation may leave out."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None
