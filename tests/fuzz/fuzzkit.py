"""Fuzzing every command through its CLI entry point, in-process, one forked worker per case.

Inputs start from a small generated data set (``scot fixtures``) and the outputs of the
pipeline run on it; each case mutates one input (strategies derived from the table
declarations of ``scot_cli.schema`` and the command packages' ``schema.py``), one option or
the output path, runs ``scot`` in a worker forked from a preloaded server (``RLIMIT_AS``
bounded, killed at its timeout) and checks the contract of the README: exit 0/2/3/4, one
``scot: error:`` line and no traceback on failure, inputs unchanged, no leftover files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st
from pyarrow import ipc

from scot_cli import schema as contract
from scot_cli.schema import Column, Table

REPO = Path(__file__).resolve().parents[2]
ANY = frozenset({0, 2, 3, 4})
DATA_OK = frozenset({0, 3, 4})
MEMORY_LIMIT = 4 << 30
#: Worker exit codes of the harness itself (not scot's): an exception escaped ``main``.
UNCAUGHT = 87
MEMORY = 86

# ---------------------------------------------------------------------------------------------
# Tables: every declaration in the contract and the command packages, found by name.


def declared_tables() -> dict[str, Table]:
    """Every :class:`Table` declared in ``scot_cli.schema`` and the command schema modules,
    keyed ``module:ATTR`` (so tables outside ``TABLES``, such as what a command reads of
    another's output, are found too)."""
    import importlib

    found: dict[str, Table] = {}
    for mod_name in ("scot_cli.schema", *contract.OUTPUT_SCHEMA_MODULES):
        mod = importlib.import_module(mod_name)
        for attr, value in vars(mod).items():
            if isinstance(value, Table):
                found[f"{mod_name}:{attr}"] = value
    return found


def table(ref: str) -> Table:
    return declared_tables()[ref]


# ---------------------------------------------------------------------------------------------
# Commands: how each is driven, which declared table each input is read as.


@dataclass(frozen=True)
class Spec:
    """One way to drive a command.

    ``argv`` holds ``{role}`` placeholders for input files and ``{out:name}`` for outputs
    (``{outdir:name}`` for a folder output). ``roles`` maps each input role to the table the
    command reads it as and the base file it starts from. ``options`` maps an option to
    ``(value, expected exit codes)`` trials.
    """

    name: str
    family: str
    argv: tuple[str, ...]
    roles: Mapping[str, tuple[str, str]]
    options: Mapping[str, Sequence[tuple[str, frozenset[int]]]] = field(default_factory=dict)
    schemaless: bool = False
    stdin_role: str | None = None
    #: Whether the first output is tried at odd places (stdout, a folder, an input).
    output_variants: bool = True


def _usage(*values: str) -> list[tuple[str, frozenset[int]]]:
    return [(v, frozenset({2})) for v in values]


def _edge(*values: str) -> list[tuple[str, frozenset[int]]]:
    return [(v, ANY) for v in values]


S = "scot_cli.schema"
NUMBER_BAD = ("abc", "", "nan", "-inf")
FC_T = ("scot_cli.forecast.schema:FORECAST", "forecast.parquet")
ROLE = {
    "sales": (f"{S}:SALES", "sales.parquet"),
    "items": (f"{S}:ITEMS", "items.parquet"),
    "events": (f"{S}:EVENTS", "events.parquet"),
    "nodes": (f"{S}:NODES", "nodes.parquet"),
    "lanes": (f"{S}:LANES", "lanes.parquet"),
    "inventory": (f"{S}:INVENTORY", "inventory.parquet"),
    "orders": (f"{S}:ORDERS", "orders.parquet"),
    "calendar": (f"{S}:CALENDAR", "calendar.parquet"),
}


def specs() -> list[Spec]:
    """The commands and how they are driven; ``check`` is driven on every input table."""
    fc_opts = {
        "-H": [*_usage("0", "-1", "abc", ""), *_edge("1", "400", "100000000")],
        "--freq": [*_usage("X", "", "1D"), *_edge("W", "M")],
        "--quantiles": [*_usage("0", "1", "abc", "nan", "0.9,0.1", "-0.1", ","), *_edge("0.5")],
        "--model": [*_usage("bogus", ""), *_edge("zero", "croston", "global", "holt_winters")],
        "--seed": [*_usage("abc", "1.5"), *_edge("-1", "4294967296")],
        "--batch-size": [*_usage("0", "-5", "abc"), *_edge("1", "2")],
    }
    buy_opts = {
        "--policy": [*_usage("bogus"), *_edge("rq", "ss", "rq_eil", "newsvendor")],
        "--distribution": [*_usage("bogus"), *_edge("poisson", "empirical", "normal")],
        "--service-level": [*_usage("0", "1", "1.5", "-0.1", *NUMBER_BAD), *_edge("0.999999")],
        "--default-service-level": _usage("0", "2", *NUMBER_BAD),
        "--service-type": [*_usage("bogus"), *_edge("fill")],
        "--review-days": [*_usage("0", "-1", *NUMBER_BAD), *_edge("0.001", "100000")],
        "--as-of": [*_usage("bogus", "2026-13-40", ""), *_edge("9999-12-31", "0001-01-01")],
        "--budget": [*_usage("-1", *NUMBER_BAD), *_edge("0", "1e300")],
        "--storage": [*_usage("-1", *NUMBER_BAD), *_edge("0", "1e300")],
        "--solver": [*_usage("bogus"), *_edge("scs", "clarabel")],
    }
    place_opts = {
        "--speed-target": [
            *_usage("bogus", "1:2", "-1:0.5", "1:nan", "1", ":", "1:0.5:3"),
            *_edge("0:0.8", "1:1", "100000:0.5"),
        ],
        "--days": [*_usage("0", "-1", "abc"), *_edge("1", "100000")],
        "--transfer-cost": [*_usage("-1", *NUMBER_BAD), *_edge("0", "1e300")],
        "--late-cost": [*_usage("-1", *NUMBER_BAD), *_edge("1e300")],
        "--speed-penalty": [*_usage("-1", *NUMBER_BAD), *_edge("0")],
        "--batch-size": [*_usage("-1", "abc"), *_edge("1", "2")],
        "--solver": [*_usage("bogus", ""), *_edge("scs", "clarabel")],
        "--fair-share": _edge(""),
    }
    promise_opts = {
        "--confidence": _usage("0", "1", "2", "-1", *NUMBER_BAD),
        "--mode": _usage("bogus", ""),
        "--split": [*_usage("bogus"), *_edge("avoid", "allow")],
    }
    route_opts = {
        "--method": [*_usage("bogus", ""), *_edge("myopic", "lp-round", "mip")],
        "--time-limit": [*_usage("0", "-1", *NUMBER_BAD), *_edge("0.01")],
        "--split-cost": [*_usage("-1", *NUMBER_BAD), *_edge("0", "1e300")],
        "--late-cost": [*_usage("-1", *NUMBER_BAD), *_edge("0", "1e300")],
        "--min-fill": [*_usage("-1", "2", *NUMBER_BAD), *_edge("0", "1")],
        "--mip-max-options": [*_usage("-1", "abc"), *_edge("0", "1")],
        "--seed": [*_usage("abc"), *_edge("-1")],
        "--hold": _edge(""),
    }
    mile_opts = {
        "--vehicles": [*_usage("0", "-1", "abc"), *_edge("1", "100000")],
        "--capacity": [*_usage("0", "-1", *NUMBER_BAD), *_edge("1e-9", "1e300")],
        "--speed": [*_usage("0", "-1", *NUMBER_BAD), *_edge("1e-6", "1e300")],
        "--shift": [*_usage("0", "-1", *NUMBER_BAD), *_edge("1", "1e300")],
        "--time-limit": [*_usage("0", "-1", *NUMBER_BAD), *_edge("0.01")],
        "--seed": [*_usage("abc"), *_edge("-1")],
    }
    explain_opts = {
        "--by": [*_usage("bogus", ""), *_edge("category", "node", "order")],
        "--top": [*_usage("0", "-1", "abc"), *_edge("1", "1000000")],
        "--metric": [*_edge("bogus", "qty", "")],
        "--format": [*_usage("bogus"), *_edge("json", "md", "csv")],
    }
    promise_argv = (
        "promise",
        "{orders}",
        "--inventory",
        "{inventory}",
        "--nodes",
        "{nodes}",
        "--lanes",
        "{lanes}",
        "--calendar",
        "{calendar}",
        "--receipts",
        "{receipts}",
        "-o",
        "{out:promises.parquet}",
    )
    promise_roles = {
        **{r: ROLE[r] for r in ("orders", "inventory", "nodes", "lanes", "calendar")},
        "receipts": ("scot_cli.promise.schema:RECEIPTS", "orders_buy.parquet"),
    }
    out = [
        Spec(
            "forecast",
            "forecast",
            (
                "forecast",
                "{sales}",
                "--items",
                "{items}",
                "--events",
                "{events}",
                "-H",
                "14",
                "-o",
                "{out:forecast.parquet}",
            ),
            {r: ROLE[r] for r in ("sales", "items", "events")},
            fc_opts,
            stdin_role="sales",
        ),
        Spec(
            "forecast evaluate",
            "forecast",
            (
                "forecast",
                "evaluate",
                "{sales}",
                "--items",
                "{items}",
                "--events",
                "{events}",
                "-H",
                "7",
                "-k",
                "2",
                "-o",
                "{out:metrics.parquet}",
            ),
            {r: ROLE[r] for r in ("sales", "items", "events")},
            {**fc_opts, "-k": [*_usage("0", "-1", "abc"), *_edge("1", "1000")]},
            stdin_role="sales",
        ),
        Spec(
            "plan-buy",
            "plan-buy",
            (
                "plan-buy",
                "{forecast}",
                "--items",
                "{items}",
                "--inventory",
                "{inventory}",
                "-o",
                "{out:orders.parquet}",
                "--policy-out",
                "{out:policy.parquet}",
            ),
            {"forecast": FC_T, "items": ROLE["items"], "inventory": ROLE["inventory"]},
            buy_opts,
            stdin_role="forecast",
        ),
        Spec(
            "plan-buy --nodes",
            "plan-buy",
            (
                "plan-buy",
                "{forecast}",
                "--items",
                "{items}",
                "--inventory",
                "{inventory}",
                "--nodes",
                "{nodes}",
                "--lanes",
                "{lanes}",
                "--budget",
                "5000",
                "-o",
                "{out:orders.parquet}",
            ),
            {
                "forecast": FC_T,
                **{r: ROLE[r] for r in ("items", "inventory", "nodes", "lanes")},
            },
            buy_opts,
            stdin_role="forecast",
        ),
        Spec(
            "place",
            "place",
            (
                "place",
                "{forecast}",
                "--items",
                "{items}",
                "--inventory",
                "{inventory}",
                "--nodes",
                "{nodes}",
                "--lanes",
                "{lanes}",
                "--receipts",
                "{receipts}",
                "-o",
                "{out:placement.parquet}",
                "--coverage-out",
                "{out:coverage.parquet}",
                "--constraints-out",
                "{out:constraints.parquet}",
            ),
            {
                "forecast": ("scot_cli.place.schema:FORECAST_IN", "forecast.parquet"),
                **{r: ROLE[r] for r in ("items", "inventory", "nodes", "lanes")},
                "receipts": ("scot_cli.place.schema:RECEIPTS_IN", "orders_buy.parquet"),
            },
            place_opts,
            stdin_role="forecast",
        ),
        Spec(
            "promise snapshot",
            "promise",
            (*promise_argv, "--mode", "snapshot"),
            promise_roles,
            promise_opts,
            stdin_role="orders",
        ),
        Spec(
            "promise commit",
            "promise",
            (*promise_argv, "--mode", "commit"),
            promise_roles,
            promise_opts,
            stdin_role="orders",
        ),
        Spec(
            "route",
            "route",
            (
                "route",
                "{promises}",
                "--inventory",
                "{inventory}",
                "--nodes",
                "{nodes}",
                "--lanes",
                "{lanes}",
                "--items",
                "{items}",
                "--orders",
                "{orders}",
                "--time-limit",
                "2",
                "-o",
                "{out:shipments.parquet}",
                "--trucks-out",
                "{out:trucks.parquet}",
            ),
            {
                "promises": ("scot_cli.route.schema:PROMISE_LINES", "promises.parquet"),
                **{r: ROLE[r] for r in ("inventory", "nodes", "lanes", "items", "orders")},
            },
            route_opts,
            stdin_role="promises",
        ),
        Spec(
            "route last-mile",
            "route",
            (
                "route",
                "last-mile",
                "{stops}",
                "--nodes",
                "{nodes}",
                "--time-limit",
                "1",
                "-o",
                "{out:routes.parquet}",
            ),
            {"stops": ("scot_cli.route.schema:STOPS", "stops.parquet"), "nodes": ROLE["nodes"]},
            mile_opts,
            stdin_role="stops",
        ),
        Spec(
            "explain",
            "explain",
            (
                "explain",
                "{before}",
                "{after}",
                "--after-input",
                "items={items}",
                "-o",
                "{out:attribution.parquet}",
                "--report",
                "{out:report.md}",
            ),
            {
                "before": ("scot_cli.buy.schema:BUY_POLICY", "policy.parquet"),
                "after": ("scot_cli.buy.schema:BUY_POLICY", "policy_after.parquet"),
                "items": ("scot_cli.schema:ITEMS", "items_after.parquet"),
            },
            explain_opts,
        ),
        Spec(
            "explain one decision",
            "explain",
            ("explain", "{run}", "--sku", "{sku}", "--format", "md"),
            {"run": ("scot_cli.buy.schema:BUY_POLICY", "policy.parquet")},
            {"--sku": [("NOPE", frozenset({2, 3})), *_edge("")], "--format": _usage("bogus")},
            stdin_role="run",
        ),
        Spec(
            "simulate",
            "simulate",
            (
                "simulate",
                "--sales",
                "{sales}",
                "--items",
                "{items}",
                "--nodes",
                "{nodes}",
                "--lanes",
                "{lanes}",
                "--inventory",
                "{inventory}",
                "--days",
                "7",
                "-o",
                "{outdir:sim}",
            ),
            {r: ROLE[r] for r in ("sales", "items", "nodes", "lanes", "inventory")},
            {
                "--days": [*_usage("0", "-1", "abc"), *_edge("1")],
                "--replications": [*_usage("0", "-1", "abc"), *_edge("2")],
                "--review-days": [*_usage("0", "-1", "abc"), *_edge("1", "100000")],
                "--policy": [*_usage("bogus", ""), *_edge("baseline", "scot")],
                "--what-if": [*_usage("bogus=1", "lead-time", ""), *_edge("lead-time=x1.5")],
                "--max-promise-days": [*_usage("-1", "abc"), *_edge("0", "100000")],
                "--max-cells": [*_usage("0", "-1", "abc"), ("1", frozenset({3}))],
                "--seed": [*_usage("abc"), *_edge("-1", "4294967296")],
            },
        ),
        Spec(
            "plot forecast",
            "plot",
            ("plot", "forecast", "{data}", "-o", "{out:fc.png}"),
            {"data": FC_T},
            {
                "--top": [*_usage("0", "-1", "abc"), *_edge("1", "1000000")],
                "--format": [*_usage("bogus", ""), *_edge("svg", "html")],
                "--sku": [*_edge("NOPE", "")],
            },
            stdin_role="data",
        ),
        Spec(
            "plot promise",
            "plot",
            ("plot", "{data}", "-o", "{out:promise.svg}"),
            {"data": ("scot_cli.promise.schema:PROMISES", "promises.parquet")},
            {"--format": [*_usage("bogus"), *_edge("png")]},
        ),
        Spec(
            "report",
            "report",
            # the base folder holds every pipeline output; the page goes to the case's folder
            ("report", "{base}", "-o", "{out:report.html}"),
            {},
            {"--top": [*_usage("0", "-1", "abc"), *_edge("1")]},
            output_variants=False,
        ),
        Spec(
            "inspect",
            "inspect",
            ("inspect", "{data}"),
            {"data": FC_T},
            {"--head": [*_usage("abc"), *_edge("-1", "0", "1000000")]},
            schemaless=True,
            stdin_role="data",
        ),
        Spec(
            "sql",
            "sql",
            (
                "sql",
                "select * from '{data}' order by all limit 5",
                "-f",
                "parquet",
                "-o",
                "{out:q}",
            ),
            {"data": ROLE["sales"]},
            {"-f": [*_usage("bogus"), *_edge("csv", "json", "table")]},
            schemaless=True,
        ),
        Spec(
            "merge",
            "merge",
            ("merge", "{part0}", "{part1}", "-o", "{out:merged}"),
            {
                "part0": ("scot_cli.buy.schema:BUY_ORDERS", "orders_shard0.parquet"),
                "part1": ("scot_cli.buy.schema:BUY_ORDERS", "orders_shard1.parquet"),
            },
            schemaless=True,
        ),
        Spec(
            "fixtures",
            "fixtures",
            ("fixtures", "--out", "{outdir:fx}", "--skus", "4", "--days", "30", "--orders", "5"),
            {},
            {
                "--skus": [*_usage("1", "0", "-1", "abc"), *_edge("2")],
                "--days": [*_usage("27", "-1", "abc"), *_edge("28")],
                "--orders": [*_usage("0", "-1"), *_edge("1")],
                "--seed": [*_usage("abc"), *_edge("-1", "4294967296")],
                "--end": [*_usage("bogus", "2026-02-30", ""), *_edge("9999-12-01", "0001-12-31")],
            },
        ),
    ]
    for t in contract.INPUT_TABLES:
        ref = next(k for k, v in declared_tables().items() if v is t)
        out.append(
            Spec(
                f"check {t.name}",
                "check",
                ("check", t.name, "{data}", "--nodes", "{nodes}"),
                {"data": (ref, f"{t.name}.parquet"), "nodes": ROLE["nodes"]},
                stdin_role="data",
            )
        )
    return out


#: SQL queries tried in place of the spec's query: odd but legal, and broken.
SQL_QUERIES: tuple[tuple[str, frozenset[int]], ...] = (
    ("selec 1", frozenset({2, 3})),
    ("", frozenset({2, 3})),
    ("select * from 'missing.parquet'", frozenset({2, 3})),
    ("select 1 as a, 2 as a", ANY),
    ("select 'é' as \"🙂\", null as n", ANY),
    ("select 1/0 as x", ANY),
    ("select * from range(10) where false", ANY),
    ("select [1, 2] as l, {'a': 1} as s, interval 1 day as i", ANY),
)


# ---------------------------------------------------------------------------------------------
# Mutations, derived from the column declarations.


@dataclass(frozen=True)
class Mutation:
    """One change to one input: a frame change (column, value, rows) or a file change."""

    kind: str
    column: str | None = None
    value: Any = None
    where: str = "all"
    row: int = 0

    def describe(self) -> str:
        if self.kind in {"value", "null"}:
            what = "null" if self.kind == "null" else _show(self.value)
            rows = {"all": "every row", "first": "row 0"}.get(self.where, f"row {self.row}")
            return f"column {self.column} set to {what} in {rows}"
        if self.kind == "dtype":
            return f"column {self.column} cast to {self.value}"
        if self.kind == "rename":
            return f"column {self.column} renamed to {_show(self.value)}"
        if self.kind in {"drop", "extra"}:
            return f"{self.kind} column {_show(self.column)}"
        if self.kind == "truncate":
            return f"file truncated to {self.value:.0%} of its bytes"
        if self.kind == "provenance":
            return f"provenance metadata replaced by {_show(self.value)}"
        if self.kind == "head":
            return f"only the first {self.value} row(s)"
        return self.kind.replace("_", " ")


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


ODD_STRINGS = (
    "",
    " ",
    "é",
    "\u202eRTL",
    "🙂",
    "a\x00b",
    "x" * 5000,
    "NULL",
    "'; drop table t; --",
    "../../etc",
    "line\nbreak",
    "ALL",
)
ODD_FLOATS = (
    math.nan,
    math.inf,
    -math.inf,
    1e300,
    -1e300,
    -1.0,
    0.0,
    5e-324,
    1e15,
    0.5,
)
ODD_INTS = (-1, 0, 1, 2**31, 2**62, -(2**62), 10**9)
ODD_DATES = (
    dt.date(1, 1, 1),
    dt.date(1900, 1, 1),
    dt.date(1970, 1, 1),
    dt.date(2999, 12, 31),
    dt.date(9999, 12, 31),
)
DTYPES = ("str", "i64", "i32", "u8", "f64", "f32", "bool", "date", "datetime", "null", "cat")


def values_for(col: Column) -> st.SearchStrategy[Any]:
    """Odd values for a declared column: its type's edge cases, its bounds just broken,
    values outside its choices, and arbitrary values of its type."""
    picks: list[st.SearchStrategy[Any]] = []
    if col.dtype == "f64":
        picks += [st.sampled_from(ODD_FLOATS), st.floats(allow_nan=True)]
    elif col.dtype == "i64":
        picks += [st.sampled_from(ODD_INTS), st.integers(-(2**63), 2**63 - 1)]
    elif col.dtype == "str":
        picks += [st.sampled_from(ODD_STRINGS), st.text(max_size=12)]
    elif col.dtype == "date":
        picks += [st.sampled_from(ODD_DATES), st.dates()]
    elif col.dtype == "datetime":
        picks += [
            st.sampled_from([dt.datetime.combine(d, dt.time()) for d in ODD_DATES]),
            st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
        ]
    elif col.dtype == "bool":
        picks += [st.booleans()]
    numeric = col.dtype in {"f64", "i64"}
    if numeric and col.min is not None:
        below = col.min - (1 if col.dtype == "i64" else 1e-9)
        picks.append(st.just(int(below) if col.dtype == "i64" else below))
    if numeric and col.max is not None:
        above = col.max + (1 if col.dtype == "i64" else 1e-9)
        picks.append(st.just(int(above) if col.dtype == "i64" else above))
    if col.choices:
        picks.append(st.sampled_from(["bogus", *(c.upper() for c in col.choices)]))
    return st.one_of(picks)


@st.composite
def frame_mutation(draw: st.DrawFn, t: Table) -> Mutation:
    """A change to a frame read as ``t``, from its declared columns."""
    kind = draw(
        st.sampled_from(
            ["value"] * 6
            + ["null"] * 2
            + ["dtype"] * 2
            + ["drop", "drop", "rename", "extra", "empty", "head", "duplicate", "shuffle"]
            + ["copy_row"] * (2 if t.keys else 0)
        )
    )
    if kind in {"empty", "shuffle", "duplicate"}:
        return Mutation(kind, row=draw(st.integers(0, 10_000)))
    if kind == "copy_row":
        # a row repeated under a fresh key (its last key column changed): the same sku on two
        # lines of one order, the same sku at a second node, ...
        return Mutation(kind, t.keys[-1], row=draw(st.integers(0, 10_000)))
    if kind == "head":
        return Mutation(kind, value=draw(st.sampled_from([1, 2])))
    col = draw(st.sampled_from(t.columns))
    if kind == "drop":
        return Mutation(kind, col.name)
    if kind == "rename":
        new = draw(st.sampled_from([col.name.upper(), f" {col.name}", f"{col.name}_x", "é"]))
        return Mutation(kind, col.name, new)
    if kind == "extra":
        names = ["extra", "🙂", "", "__index_level_0__", "p05", "p95", "p5", "P50"]
        return Mutation(kind, draw(st.sampled_from(names)))
    if kind == "dtype":
        return Mutation(kind, col.name, draw(st.sampled_from(DTYPES)))
    where = draw(st.sampled_from(["all", "first", "row"]))
    row = draw(st.integers(0, 10_000))
    if kind == "null":
        return Mutation(kind, col.name, None, where, row)
    return Mutation(kind, col.name, draw(values_for(col)), where, row)


PROVENANCE_VALUES = (
    "{",
    "[]",
    "null",
    '{"command": 5}',
    '{"command": "plan-buy", "params": "x", "inputs": 3}',
    '{"command": "plan-buy", "params": {"policy": "bogus", "service_level": 7}, "inputs": []}',
    '{"command": "plan-buy", "inputs": [{"role": "items", "path": "/nonexistent", '
    '"sha256": "00"}]}',
    '{"command": "bogus"}',
)


@st.composite
def file_mutation(draw: st.DrawFn) -> Mutation:
    """A change to the file itself rather than its rows."""
    kind = draw(
        st.sampled_from(
            ["truncate"] * 3
            + ["empty_file", "garbage", "csv", "folder", "missing", "ipc", "ipc", "provenance"]
        )
    )
    if kind == "truncate":
        return Mutation(kind, value=draw(st.floats(0.0, 0.99)))
    if kind == "provenance":
        return Mutation(kind, value=draw(st.sampled_from(PROVENANCE_VALUES)))
    return Mutation(kind)


@dataclass(frozen=True)
class Case:
    """One fuzz case: a command, and at most one changed input, option or output."""

    spec: str
    role: str | None = None
    mutation: Mutation | None = None
    option: str | None = None
    option_value: str | None = None
    option_expect: frozenset[int] = ANY
    output: str | None = None
    stdin: bool = False

    def describe(self) -> str:
        parts = []
        if self.mutation is not None:
            parts.append(f"{self.role}: {self.mutation.describe()}")
        if self.option is not None:
            parts.append(f"option {self.option} {self.option_value!r}")
        if self.output is not None:
            parts.append(f"output {self.output.replace('_', ' ')}")
        if self.stdin:
            parts.append(f"{self.role or 'first input'} from stdin")
        return "; ".join(parts) or "unchanged inputs"


@st.composite
def cases(draw: st.DrawFn, spec_list: Sequence[Spec] | None = None) -> Case:
    """A case for any command (families drawn evenly, then one of their specs)."""
    all_specs = list(spec_list or specs())
    families = sorted({s.family for s in all_specs})
    fam = draw(st.sampled_from(families))
    spec = draw(st.sampled_from([s for s in all_specs if s.family == fam]))
    return draw(case_for(spec))


@st.composite
def case_for(draw: st.DrawFn, spec: Spec) -> Case:
    has_output = spec.output_variants and any(
        a.startswith(("{out:", "{outdir:")) for a in spec.argv
    )
    kinds = ["data"] * 6 + ["file"] * 2 + ["option"] * 3 + ["output", "none"]
    if not spec.roles:
        kinds = ["option"] * 6 + ["output"] * 2 + ["none"]
    if not has_output:
        kinds = [k for k in kinds if k != "output"]
    kind = draw(st.sampled_from(kinds))
    stdin = spec.stdin_role is not None and draw(st.integers(0, 7)) == 0
    if kind in {"data", "file"}:
        role = draw(st.sampled_from(sorted(spec.roles)))
        t = table(spec.roles[role][0])
        mut = draw(frame_mutation(t) if kind == "data" else file_mutation())
        on_stdin = stdin and role == spec.stdin_role and mut.kind not in {"folder", "missing"}
        edges = [(o, v) for o, trials in spec.options.items() for v, e in trials if e == ANY]
        if kind == "data" and edges and draw(st.integers(0, 3)) == 0:
            # odd data under an unusual but valid option (e.g. --split avoid, --policy rq)
            opt, value = draw(st.sampled_from(sorted(edges)))
            return Case(spec.name, role, mut, opt, value, ANY, stdin=on_stdin)
        return Case(spec.name, role, mut, stdin=on_stdin)
    if kind == "option":
        if spec.name == "sql" and draw(st.booleans()):
            query, expect = draw(st.sampled_from(SQL_QUERIES))
            return Case(spec.name, option="<query>", option_value=query, option_expect=expect)
        if not spec.options:
            return Case(spec.name)
        opt = draw(st.sampled_from(sorted(spec.options)))
        value, expect = draw(st.sampled_from(list(spec.options[opt])))
        return Case(spec.name, option=opt, option_value=value, option_expect=expect)
    if kind == "output":
        choices = ["missing_folder", "folder", "stdout"]
        if spec.roles:
            choices.append("same_as_input")
        return Case(spec.name, output=draw(st.sampled_from(choices)))
    return Case(spec.name, stdin=stdin, role=spec.stdin_role if stdin else None)


def draw_cases(n: int, *, seed: int, spec_list: Sequence[Spec] | None = None) -> list[Case]:
    """``n`` distinct cases from the strategies, reproducible from ``seed``."""
    got: dict[str, Case] = {}
    strategy = cases(spec_list)
    attempt = 0
    while len(got) < n and attempt < 20:

        @settings(
            max_examples=n,
            database=None,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @hseed(seed + attempt)
        @given(strategy)
        def collect(case: Case) -> None:
            got.setdefault(repr(case), case)

        collect()
        attempt += 1
    return list(got.values())[:n]


# ---------------------------------------------------------------------------------------------
# Applying a mutation.


def _literal(value: Any) -> pl.Expr:
    return pl.lit(value, allow_object=False)


def _cast(col: str, to: str, df: pl.DataFrame) -> pl.Expr:
    c = pl.col(col)
    if to == "null":
        return pl.lit(None).alias(col)
    if to == "cat":
        return c.cast(pl.String).cast(pl.Categorical)
    if to == "str":
        return c.cast(pl.String)
    target: dict[str, Any] = {
        "i64": pl.Int64,
        "i32": pl.Int32,
        "u8": pl.UInt8,
        "f64": pl.Float64,
        "f32": pl.Float32,
        "bool": pl.Boolean,
        "date": pl.Date,
        "datetime": pl.Datetime("us"),
    }
    dtype = target[to]
    src = df.schema[col]
    if src == pl.String and to in {"date", "datetime"}:
        return c.str.to_date(strict=False).cast(dtype)
    if src == pl.String and to == "bool":
        return (c.str.len_bytes() % 2 == 0).alias(col)
    if src in {pl.Date, pl.Datetime} and to in {"bool", "u8"}:
        return pl.lit(True if to == "bool" else 1, dtype=dtype).alias(col)
    return c.cast(dtype, strict=False)


def _copy_row(df: pl.DataFrame, key: str, row: int) -> pl.DataFrame:
    """``df`` plus a copy of one row whose ``key`` is new: max + 1 for numbers, a suffix for
    strings, the day after the latest for dates."""
    if df.height == 0 or key not in df.columns:
        return df
    one = df.slice(row % df.height, 1)
    dtype = df.schema[key]
    if dtype.is_numeric():
        fresh = pl.lit(df[key].max()).cast(dtype) + 1
    elif dtype == pl.String:
        fresh = pl.col(key) + "-copy"
    elif dtype in {pl.Date, pl.Datetime}:
        fresh = pl.lit(df[key].max()).cast(dtype).dt.offset_by("1d")
    else:
        return df
    return pl.concat([df, one.with_columns(fresh.alias(key))])


def mutate_frame(m: Mutation, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with the frame mutation ``m`` applied."""
    if m.kind == "empty":
        return df.clear()
    if m.kind == "head":
        return df.head(int(m.value))
    if m.kind == "copy_row":
        return _copy_row(df, str(m.column), m.row)
    if m.kind == "duplicate":
        return pl.concat([df, df.slice(m.row % max(df.height, 1), 1)])
    if m.kind == "shuffle":
        return df.sample(fraction=1.0, shuffle=True, seed=m.row)
    if m.kind == "extra":
        return df.with_columns(pl.lit(1.0).alias(str(m.column)))
    col = str(m.column)
    if m.kind == "drop":
        return df.drop(col, strict=False)
    if m.kind == "rename":
        return df.rename({col: str(m.value)}) if col in df.columns else df
    if col not in df.columns:
        df = df.with_columns(pl.lit(None).alias(col))
    if m.kind == "dtype":
        return df.with_columns(_cast(col, str(m.value), df).alias(col))
    lit = pl.lit(None, dtype=df.schema[col]) if m.kind == "null" else _literal(m.value)
    if m.where == "all" or df.height == 0:
        expr = lit
    else:
        idx = 0 if m.where == "first" else m.row % df.height
        expr = pl.when(pl.int_range(pl.len()) == idx).then(lit).otherwise(pl.col(col))
    try:
        return df.with_columns(expr.alias(col))
    except pl.exceptions.PolarsError:
        # the value's type does not mix with the column's: make the column that type
        return df.with_columns(pl.col(col).cast(pl.String)).with_columns(
            (lit if m.where == "all" else expr).cast(pl.String).alias(col)
        )


def write_mutated(m: Mutation, src: Path, dst: Path) -> Path:
    """Write ``src`` changed by ``m`` at ``dst`` (or a folder there); returns the path."""
    raw = src.read_bytes()
    meta = pq.read_schema(src).metadata or {}
    if m.kind == "truncate":
        dst.write_bytes(raw[: int(len(raw) * float(m.value))])
    elif m.kind == "empty_file":
        dst.write_bytes(b"")
    elif m.kind == "garbage":
        dst.write_bytes(b"PAR1" + hashlib.sha256(raw).digest() * 40 + b"PAR1")
    elif m.kind == "csv":
        dst.write_text(pl.read_parquet(src).write_csv())
    elif m.kind == "folder":
        dst.mkdir()
        shutil.copy(src, dst / src.name)
    elif m.kind == "missing":
        pass
    elif m.kind == "ipc":
        dst = dst.with_suffix(".arrow")
        arrow = pq.read_table(src)
        with ipc.new_file(str(dst), arrow.schema) as w:
            w.write_table(arrow)
    elif m.kind == "provenance":
        arrow = pq.read_table(src)
        pq.write_table(arrow.replace_schema_metadata({**meta, b"scot": m.value.encode()}), dst)
    else:
        arrow = mutate_frame(m, pl.read_parquet(src)).to_arrow()
        pq.write_table(
            arrow.replace_schema_metadata({**meta, **(arrow.schema.metadata or {})}), dst
        )
    return dst


#: Columns naming a node, which every command reading nodes checks against them.
NODE_REFERENCES = {"lanes": ("origin", "destination"), "inventory": ("node",)}


#: Commands whose output is a folder (made when missing, with its parents).
FOLDER_OUTPUT = frozenset({"fixtures", "simulate"})


def expected_codes(spec: Spec, case: Case) -> frozenset[int]:
    """The exit codes the contract allows for ``case``."""
    if case.option is not None and case.mutation is None:
        return case.option_expect
    if case.output == "stdout" and spec.family in FOLDER_OUTPUT | {"plot"}:
        return frozenset({2})  # --out is required; a picture is written to a file only
    if case.output in {"missing_folder", "folder"} and spec.family in FOLDER_OUTPUT:
        return frozenset({0, 2})  # its output is a folder: existing, or made with its parents
    if case.output in {"missing_folder", "folder", "same_as_input"}:
        return frozenset({2})
    m = case.mutation
    if m is None and case.stdin and spec.family == "explain":
        return frozenset({2})  # explain reads a run's provenance from its file
    if m is None:
        return frozenset({0})
    if m.kind in {"truncate", "empty_file", "garbage", "csv", "missing"}:
        stdin_refused = case.stdin and spec.family == "explain"  # explain needs RUN's file
        return frozenset({2, 3}) if spec.schemaless or stdin_refused else frozenset({3})
    if m.kind == "folder":
        # a folder holding the file is a Parquet dataset, read as the file (docs/scale-out.md)
        return ANY if spec.name == "sql" else frozenset({0, 2, 3})
    if m.kind == "ipc":
        # sql reads Parquet only; explain needs the provenance IPC files do not carry
        if spec.family == "merge":
            return frozenset({3})  # a part is known by its provenance, which IPC does not carry
        return ANY if spec.name == "sql" or spec.family == "explain" else frozenset({0})
    if spec.schemaless or spec.family == "explain" or case.option is not None:
        return ANY
    t = table(spec.roles[str(case.role)][0])
    required = set(t.required)
    if spec.family == "plot":
        from scot_cli.plot.kinds import ROLES as PLOT_ROLES

        # a picture needs the columns its table is recognised by; others only when present
        required &= set().union(*PLOT_ROLES.values())
    if m.kind in {"drop", "rename"} and m.column in required:
        return frozenset({3})
    refs = NODE_REFERENCES.get(t.name, ())
    if "nodes" in spec.roles and m.kind == "value" and m.column in refs and m.value != "ALL":
        return frozenset({3})  # a node that nodes.parquet lacks (as scot check --nodes finds)
    return DATA_OK


# ---------------------------------------------------------------------------------------------
# The base data every case starts from.


@dataclass(frozen=True)
class Base:
    folder: Path
    sku: str


def _scot(*args: str) -> None:
    """Run one base-data step in a worker; it must succeed."""
    with tempfile.TemporaryDirectory(prefix="base-step-") as d:
        for sub in ("tmp",):
            Path(d, sub).mkdir()
        code = run_argv(["--quiet", *args], Path(d), None, timeout=600)
        if code != 0:
            err = Path(d, "stderr").read_text(errors="replace")
            raise RuntimeError(f"base data: scot {' '.join(args)} exited {code}: {err}")


FIXTURE_ARGS = ("--skus", "6", "--days", "150", "--orders", "24", "--seed", "5")


def build_base(folder: Path) -> Base:
    """Fixtures and the pipeline's outputs on them, every file a valid input of some spec."""
    folder.mkdir(parents=True, exist_ok=True)
    f = str(folder)
    _scot("fixtures", "--out", f, *FIXTURE_ARGS)
    p = {name: str(folder / f"{name}.parquet") for name in ("sales", "items", "events")}
    for name in ("nodes", "lanes", "inventory", "orders", "calendar"):
        p[name] = str(folder / f"{name}.parquet")
    fc = str(folder / "forecast.parquet")
    _scot(
        "forecast",
        p["sales"],
        "--items",
        p["items"],
        "--events",
        p["events"],
        "-H",
        "14",
        # a plain model: the base data should not depend on the model choice of the day
        "--model",
        "window_mean",
        "-o",
        fc,
    )
    buy = ["--inventory", p["inventory"]]
    _scot(
        "plan-buy",
        fc,
        "--items",
        p["items"],
        *buy,
        "-o",
        f"{f}/orders_buy.parquet",
        "--policy-out",
        f"{f}/policy.parquet",
    )
    for shard in (0, 1):  # the parts `scot merge` joins
        _scot(
            "plan-buy",
            fc,
            "--items",
            p["items"],
            *buy,
            "--shard",
            f"{shard}/2",
            "-o",
            f"{f}/orders_shard{shard}.parquet",
        )
    items = pl.read_parquet(p["items"])
    vendor = items["vendor"].sort()[0]
    items.with_columns(
        pl.when(pl.col("vendor") == vendor)
        .then(pl.col("lead_time_days") * 2)
        .otherwise(pl.col("lead_time_days"))
        .alias("lead_time_days")
    ).write_parquet(folder / "items_after.parquet")
    _scot(
        "plan-buy",
        fc,
        "--items",
        f"{f}/items_after.parquet",
        *buy,
        "-o",
        f"{f}/orders_after.parquet",
        "--policy-out",
        f"{f}/policy_after.parquet",
    )
    net = ["--inventory", p["inventory"], "--nodes", p["nodes"], "--lanes", p["lanes"]]
    _scot(
        "promise",
        p["orders"],
        *net,
        "--calendar",
        p["calendar"],
        "--receipts",
        f"{f}/orders_buy.parquet",
        "--mode",
        "commit",
        "-o",
        f"{f}/promises.parquet",
    )
    _stops(pl.read_parquet(p["nodes"])).write_parquet(folder / "stops.parquet")
    sku = str(pl.read_parquet(folder / "policy.parquet")["sku"].sort()[0])
    return Base(folder, sku)


def _stops(nodes: pl.DataFrame) -> pl.DataFrame:
    """Ten stops around the first delivery station, half with an afternoon window."""
    station = nodes.filter(pl.col("kind") == "station").sort("node").row(0, named=True)
    n = 10
    return pl.DataFrame(
        {
            "stop_id": [f"S{i:02d}" for i in range(n)],
            "station": [station["node"]] * n,
            "lat": [station["lat"] + 0.01 * ((i * 7) % 5 - 2) for i in range(n)],
            "lon": [station["lon"] + 0.01 * ((i * 3) % 5 - 2) for i in range(n)],
            "demand": [float(1 + i % 4) for i in range(n)],
            "tw_early": [0.0 if i % 2 else 240.0 for i in range(n)],
            "tw_late": [300.0 if i % 2 else 600.0 for i in range(n)],
            "service_time": [3.0] * n,
        }
    )


# ---------------------------------------------------------------------------------------------
# Running one case in a worker forked from a preloaded server.

PRELOAD = [
    "scot_cli.commands.main",
    "polars",
    "pyarrow.parquet",
    "numpy",
    "scipy.stats",
    "scipy.optimize",
    "scipy.sparse",
    "cvxpy",
    "highspy",
    "duckdb",
    "pyvrp",
    "fuzz.fuzzkit",
]
_CTX: Any = None
_CTX_LOCK = threading.Lock()


def _context() -> Any:
    """The forkserver context: workers start from a server that imported scot and its heavy
    libraries but never ran polars (forking a process whose thread pools run is unsafe)."""
    global _CTX  # noqa: PLW0603
    with _CTX_LOCK:
        if _CTX is None:
            import importlib
            import pkgutil

            import scot_cli

            mods = [
                m.name
                for m in pkgutil.walk_packages(scot_cli.__path__, "scot_cli.")
                if not m.name.endswith("__main__")
            ]
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([*PRELOAD, *mods])
            tests = str(REPO / "tests")
            if tests not in sys.path:
                sys.path.insert(0, tests)
            importlib.import_module("fuzz.fuzzkit")
            _CTX = ctx
    return _CTX


def _worker(case_dir: str, argv: list[str], stdin: str | None, mem: int, cpu: int) -> None:
    """Run ``scot argv`` in this (forked) process and leave with its exit code; ``mem``
    bytes of address space and ``cpu`` seconds of CPU at most (SIGXCPU ends it)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    os.chdir(case_dir)
    tmp = os.path.join(case_dir, "tmp")
    os.environ.update(TMPDIR=tmp, NO_COLOR="1", COLUMNS="200")
    tempfile.tempdir = tmp
    for fd, path, flags in (
        (0, stdin or os.devnull, os.O_RDONLY),
        (1, "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        new = os.open(path, flags, 0o644)
        os.dup2(new, fd)
        os.close(new)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    sys.argv = ["scot", *argv]
    code = 0
    try:
        from scot_cli.commands.main import main

        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except MemoryError:
        traceback.print_exc()
        code = MEMORY
    except BaseException:
        traceback.print_exc()
        code = UNCAUGHT
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    with contextlib.suppress(OSError):
        Path("exitcode").write_text(str(code))
    os._exit(code)


@dataclass
class Outcome:
    case: Case
    argv: list[str]
    code: int | None
    seconds: float
    stderr: str
    failures: list[str]
    detail: str = ""
    files: dict[str, str] = field(default_factory=dict)


def _snapshot(paths: Iterable[Path]) -> dict[str, str]:
    """SHA-256 of every file under ``paths`` (folders walked)."""
    out: dict[str, str] = {}
    for p in paths:
        if p.is_dir():
            for q in sorted(p.rglob("*")):
                if q.is_file():
                    out[str(q)] = hashlib.sha256(q.read_bytes()).hexdigest()
        elif p.exists():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def prepare(spec: Spec, case: Case, base: Base, case_dir: Path) -> tuple[list[str], Path | None]:
    """Write the case's inputs into ``case_dir`` and build its argv (and stdin file)."""
    inputs, out = case_dir / "inputs", case_dir / "out"
    for d in (inputs, out, case_dir / "tmp"):
        d.mkdir(parents=True)
    files: dict[str, str] = {}
    overwritten = next(iter(spec.roles), None) if case.output == "same_as_input" else None
    for role, (_ref, base_name) in spec.roles.items():
        src = base.folder / base_name
        if role == case.role and case.mutation is not None:
            files[role] = str(write_mutated(case.mutation, src, inputs / base_name))
        elif role == overwritten:
            # the output aims at this input: a copy, so that the shared base stays intact
            files[role] = str(shutil.copy(src, inputs / base_name))
        else:
            files[role] = str(src)
    stdin = None
    if case.stdin and spec.stdin_role is not None:
        stdin = Path(files[spec.stdin_role])
        files[spec.stdin_role] = "-"
    argv: list[str] = []
    outputs_seen = 0
    args = list(spec.argv)
    i = 0
    while i < len(args):
        a = args[i]
        m = re.fullmatch(r"\{(out|outdir):(.+)\}", a)
        if m:
            path: str | None = str(out / m.group(2))
            if outputs_seen == 0 and case.output is not None:
                path = _output_variant(case.output, out, m.group(2), files)
                if path is None:  # stdout: drop the option
                    argv.pop()
                    i += 1
                    outputs_seen += 1
                    continue
            outputs_seen += 1
            argv.append(str(path))
        else:
            argv.append(a.format(**files, sku=base.sku, base=base.folder) if "{" in a else a)
        i += 1
    if case.option == "<query>":
        argv[1] = str(case.option_value)
    elif case.option is not None:
        argv = _with_option(argv, case.option, str(case.option_value))
    return argv, stdin


def _output_variant(kind: str, out: Path, name: str, files: Mapping[str, str]) -> str | None:
    if kind == "missing_folder":
        return str(out / "nodir" / name)
    if kind == "folder":
        return str(out)
    if kind == "same_as_input":
        return next(iter(files.values()))
    return None


def _with_option(argv: list[str], option: str, value: str) -> list[str]:
    """``argv`` with ``option`` set to ``value`` (replaced when present, else appended);
    an empty value for a flag means the bare flag."""
    flags = {"--fair-share", "--hold"}
    if option in flags:
        return [*argv, option]
    if option in argv:
        i = argv.index(option)
        return [*argv[: i + 1], value, *argv[i + 2 :]]
    return [*argv, option, value]


#: The exit code multiprocessing's fork server client gives when it lost a worker's status.
LOST_STATUS = 255
#: A case that has not ended after this many times its CPU budget in wall time hangs.
WALL_FACTOR = 5


def run_argv(
    argv: Sequence[str],
    cwd: Path,
    stdin: Path | None,
    *,
    timeout: float,
    mem: int = MEMORY_LIMIT,
) -> int | None:
    """Run ``scot argv`` in a forked worker inside ``cwd`` (stdout and stderr kept there);
    the exit code, or None when it hung: used ``timeout`` CPU seconds, or was still running
    after ``WALL_FACTOR`` times that (the machine may be shared, so wall time alone would
    call a slow run a hang)."""
    proc = _context().Process(
        target=_worker, args=(str(cwd), list(argv), stdin and str(stdin), mem, int(timeout))
    )
    proc.start()
    proc.join(timeout * WALL_FACTOR)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None
    code: int | None = int(proc.exitcode if proc.exitcode is not None else -1)
    if code == LOST_STATUS:
        # multiprocessing reports 255 when it could not read the status from the fork
        # server, possibly while the worker still runs: take the code the worker wrote
        code = _written_code(cwd / "exitcode", deadline=time.monotonic() + timeout * WALL_FACTOR)
    return None if code in {None, -signal.SIGXCPU} else code


def _written_code(path: Path, *, deadline: float) -> int | None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            return int(path.read_text())
        time.sleep(0.05)
    return None


MEMORY_SIGNS = ("MemoryError", "memory allocation of", "Cannot allocate memory", "bad_alloc")


def run_case(
    spec: Spec,
    case: Case,
    base: Base,
    work: Path,
    *,
    timeout: float,
    mem: int = MEMORY_LIMIT,
) -> Outcome:
    """Prepare, run and judge one case."""
    case_dir = Path(tempfile.mkdtemp(prefix="case-", dir=work))
    try:
        argv, stdin = prepare(spec, case, base, case_dir)
    except (pl.exceptions.PolarsError, pa.ArrowException, OverflowError, ValueError) as exc:
        return Outcome(case, [], None, 0.0, "", ["skipped"], f"could not build input: {exc}")
    inputs = [case_dir / "inputs", base.folder]
    before = _snapshot(inputs)
    base_names = set(os.listdir(case_dir))
    start = time.perf_counter()
    code = run_argv(argv, case_dir, stdin, timeout=timeout, mem=mem)
    seconds = time.perf_counter() - start
    err = (case_dir / "stderr").read_text(errors="replace")
    outcome = Outcome(case, argv, code, seconds, err, [])
    judge(spec, case, outcome, case_dir, before, base_names, inputs)
    if not outcome.failures:
        shutil.rmtree(case_dir, ignore_errors=True)
        return outcome
    if keep := os.environ.get("SCOT_FUZZ_KEEP"):
        # pytest removes old temporary folders; keep the failing case to reproduce it
        case_dir = Path(shutil.copytree(case_dir, Path(keep) / case_dir.name, symlinks=True))
    outcome.detail = (outcome.detail + f" (case folder {case_dir})").strip()
    return outcome


def judge(
    spec: Spec,
    case: Case,
    o: Outcome,
    case_dir: Path,
    before: Mapping[str, str],
    base_names: set[str],
    inputs: Sequence[Path],
) -> None:
    """Record every way the outcome breaks the contract in ``o.failures``."""
    if o.code is None:
        o.failures.append("hang")
        return
    err = o.stderr
    if "Traceback (most recent call last)" in err:
        o.failures.append("traceback")
    if any(s in err for s in MEMORY_SIGNS) or o.code == MEMORY:
        o.failures.append("memory")
    if o.code == 1:
        o.failures.append("exit 1")
    elif o.code not in ANY or o.code not in expected_codes(spec, case):
        o.failures.append("wrong exit code")
    if o.code != 0:
        lines = err.splitlines()
        errors = [ln for ln in lines if ln.startswith("scot: error: ")]
        if len(lines) != 1 or len(errors) != 1:
            o.failures.append("bad message")
    if _snapshot(inputs) != before:
        o.failures.append("input changed")
    left = leftovers(spec, o.argv, case_dir, base_names)
    if left:
        o.failures.append("leftover")
        o.detail = "left behind: " + ", ".join(left)


#: The files ``scot simulate`` writes into its output folder.
#: The central tier's tables that ``scot fixtures`` writes beside the input tables.
CENTRAL_TABLES = frozenset({"nodes_central", "lanes_central"})
SIMULATE_OUTPUTS = frozenset({"sim_daily.parquet", "sim_summary.parquet", "sim_kpis.parquet"})


def leftovers(spec: Spec, argv: Sequence[str], case_dir: Path, base_names: set[str]) -> list[str]:
    """Files the run left that it was not asked to write."""
    declared: set[Path] = set()
    for a in argv:
        p = Path(a)
        if p.is_absolute() and (p == case_dir / "out" or case_dir / "out" in p.parents):
            declared.add(p)
    left = []
    out = case_dir / "out"
    for q in sorted(out.rglob("*")):
        if q in declared or (q.is_dir() and any(d == q or q in d.parents for d in declared)):
            continue
        if spec.family == "fixtures" and q.parent in declared and q.suffix == ".parquet":
            stem = q.stem
            if stem in {t.name for t in contract.INPUT_TABLES} | CENTRAL_TABLES:
                continue
        if spec.family == "simulate" and q.parent in declared and q.name in SIMULATE_OUTPUTS:
            continue
        left.append(str(q.relative_to(case_dir)))
    for d in ("tmp", "inputs"):
        for q in sorted((case_dir / d).rglob("*")):
            if d == "inputs" and not q.name.startswith("."):
                continue
            left.append(str(q.relative_to(case_dir)))
    extra = set(os.listdir(case_dir)) - base_names - {"stdout", "stderr", "exitcode"}
    left += sorted(extra)
    return left


# ---------------------------------------------------------------------------------------------
# Many cases.

CATEGORIES = (
    ("traceback", "tracebacks"),
    ("exit 1", "exit 1"),
    ("wrong exit code", "wrong exit codes"),
    ("hang", "hangs"),
    ("leftover", "leftovers"),
    ("bad message", "bad messages"),
    ("input changed", "inputs changed"),
    ("memory", "memory failures"),
)


def run_cases(
    cases_: Sequence[Case],
    base: Base,
    work: Path,
    *,
    timeout: float,
    jobs: int = 2,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run ``cases_`` ``jobs`` at a time."""
    by_name = {s.name: s for s in specs()}

    def one(case: Case) -> Outcome:
        o = run_case(by_name[case.spec], case, base, work, timeout=timeout)
        if on_done is not None:
            on_done(o)
        return o

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, cases_))


def summary_line(outcomes: Sequence[Outcome]) -> str:
    ran = [o for o in outcomes if "skipped" not in o.failures]
    counts = Counter(f for o in ran for f in set(o.failures))
    parts = [f"{counts.get(key, 0)} {label}" for key, label in CATEGORIES]
    skipped = len(outcomes) - len(ran)
    tail = f", {skipped} skipped (input could not be built)" if skipped else ""
    return f"fuzz: {len(ran)} cases, " + ", ".join(parts) + tail


def failures(outcomes: Sequence[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.failures and "skipped" not in o.failures]


def failure_text(o: Outcome) -> str:
    """One failure as a Markdown item: the command line, what changed, what happened."""
    argv = " ".join(_quote(a) for a in o.argv)
    first = o.stderr.strip().splitlines()[-1] if o.stderr.strip() else "(no stderr)"
    return (
        f"- [{', '.join(o.failures)}] `scot {argv}` ({o.case.spec}; {o.case.describe()}): "
        f"exit {o.code}, {o.seconds:.1f} s, stderr last line: {first[:300]!r} {o.detail}"
    )


def _quote(a: str) -> str:
    return a if re.fullmatch(r"[\w./:=,+-]+", a) else json.dumps(a, ensure_ascii=False)


def report_markdown(
    outcomes: Sequence[Outcome],
    *,
    command: str,
    seconds: float,
    load: tuple[float, float],
    commit: str,
    machine: str,
    timeout: float,
) -> str:
    """The fuzz section of docs/benchmarks.md."""
    ran = [o for o in outcomes if "skipped" not in o.failures]
    per: dict[str, Counter[str]] = {}
    for o in ran:
        c = per.setdefault(o.case.spec, Counter())
        c["cases"] += 1
        for f in set(o.failures):
            c[f] += 1
        c[f"code {o.code}"] += 1
    rows = [
        "| command | cases | exit 0 | exit 2 | exit 3 | exit 4 | failing cases | failures |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(per):
        c = per[name]
        kinds = ", ".join(f"{label} {c[key]}" for key, label in CATEGORIES if c.get(key))
        nfail = sum(1 for o in ran if o.case.spec == name and o.failures)
        rows.append(
            f"| {name} | {c['cases']} | {c['code 0']} | {c['code 2']} | {c['code 3']} | "
            f"{c['code 4']} | {nfail} | {kinds or '-'} |"
        )
    times = sorted(o.seconds for o in ran)
    median = times[len(times) // 2] if times else 0.0
    fails = failures(outcomes)
    lines = [
        "## fuzz",
        "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine}. Commit: {commit}.",
        f"Command: `{command}`",
        "",
        "Every command driven through its CLI entry point in a worker forked from a preloaded "
        f"process (address space limited to {MEMORY_LIMIT >> 30} GiB, a hang when it has "
        f"used {timeout:g} CPU seconds or run {timeout * WALL_FACTOR:g} s), on inputs "
        f"derived from `scot fixtures {' '.join(FIXTURE_ARGS)}` and the "
        "pipeline's outputs on them, each case changing one input (columns dropped, renamed or "
        "cast; nulls, NaN/inf, huge, negative, odd unicode and far dates; empty, one-row and "
        "duplicated tables; truncated, garbage, CSV, Arrow IPC, a folder or nothing where the "
        "file belongs; corrupt provenance), one option value or the output path. A case fails "
        "on a traceback, exit 1, an exit code outside 0/2/3/4 or outside what the change "
        "allows (e.g. 3 for a missing required column, 2 for a bad option value), a hang, "
        "a file left that was not asked for, stderr other than one `scot: error:` line on "
        "failure, a changed input or running out of memory.",
        "",
        f"Summary: `{summary_line(outcomes)}`",
        "",
        f"Wall time {seconds:.0f} s for {len(ran)} cases, 2 at a time (median case "
        f"{median:.2f} s). Load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after.",
        "",
        *rows,
        "",
    ]
    lines += [
        "Reproduce a case from the lines `pytest -m fuzz` prints on failure (each gives the "
        "command line and the change); the fault tests (kill -9, SIGTERM and SIGINT during "
        "writes, racing writers, closed pipes, a full disk) are in `tests/fault` (`make test` "
        "runs the quick ones, `make slow` the rest).",
        "",
    ]
    if fails:
        lines += [f"Failing cases ({len(fails)}), grouped:", ""]
        groups: dict[str, list[Outcome]] = {}
        for failed in fails:
            groups.setdefault(signature(failed), []).append(failed)
        for sig, group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"- {len(group)} x {sig}")
        lines.append("")
    return "\n".join(lines)


def signature(o: Outcome) -> str:
    """A short grouping key: command, failure kinds and the error's first words."""
    last = o.stderr.strip().splitlines()[-1] if o.stderr.strip() else "no stderr"
    last = re.sub(r"/\S+", "PATH", last)
    last = re.sub(r"\d+(\.\d+)?", "N", last)[:90]
    return f"{o.case.spec}: {'/'.join(o.failures)}: {last}"


def load_average() -> float:
    return os.getloadavg()[0]


def machine() -> str:
    import platform

    mem_kb = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {mem_kb / 2**20:.0f} GiB, "
        f"Python {platform.python_version()}"
    )


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, check=False
    )
    head = done.stdout.decode().strip() or "unknown"
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    changed = len(status.stdout.decode().splitlines())
    return f"{head} (+{changed} tracked files changed in the tree)" if changed else head


def dump(outcomes: Sequence[Outcome], path: Path) -> None:
    """Failures as Markdown items (for reading and reproducing)."""
    path.write_text("\n".join(failure_text(o) for o in failures(outcomes)) + "\n")


__all__ = [
    "ANY",
    "Base",
    "Case",
    "Mutation",
    "Outcome",
    "Spec",
    "build_base",
    "case_for",
    "cases",
    "declared_tables",
    "draw_cases",
    "run_cases",
    "specs",
    "summary_line",
]
