"""One decision taken apart in plain sentences, from its output row and provenance.

:data:`SENTENCES` holds, per command, sentence templates over the output
columns; a template is used when every column it names is present and not
null. Columns no template covers are listed as they are, so nothing is hidden.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from scot_cli.errors import InputDataError, UsageError

#: Per command: (columns, template) pairs in reading order.
SENTENCES: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "plan-buy": (
        (
            ("sku", "node", "policy", "distribution"),
            "Sku {sku} at {node}: policy {policy}, demand modelled as {distribution}.",
        ),
        (("sku", "node", "policy"), "Sku {sku} at {node}: policy {policy}."),
        (
            ("protection_days", "demand_mean", "demand_sd"),
            "The order must cover {protection_days} days (lead time plus review period): "
            "expected demand {demand_mean} units, standard deviation {demand_sd}.",
        ),
        (
            ("safety_stock", "target", "reorder_point", "demand_mean"),
            "Safety stock of {safety_stock} units protects the {target} target, so the reorder "
            "point is {reorder_point} (expected demand {demand_mean} plus safety stock).",
        ),
        (("safety_stock",), "Safety stock is {safety_stock} units."),
        (
            ("cycle_stock", "order_up_to"),
            "Cycle stock (half a batch) is {cycle_stock} units; orders go up to {order_up_to}.",
        ),
        (
            ("inventory_position",),
            "The inventory position (on hand plus in transit) is {inventory_position}.",
        ),
        (
            ("raw_qty", "rounding", "qty"),
            "The unrounded need is {raw_qty} units; rounding ({rounding}) makes the order "
            "{qty} units.",
        ),
        (("raw_qty", "rounding"), "The unrounded need is {raw_qty} units (rounding: {rounding})."),
        (
            ("vendor", "order_date", "arrival_date", "qty"),
            "{qty} units are ordered from {vendor} on {order_date}, arriving {arrival_date}.",
        ),
        (
            ("binding_constraint", "shadow_price"),
            "The {binding_constraint} limit binds: one more unit of it would save "
            "{shadow_price} in expected cost.",
        ),
        (
            ("holding_cost", "stockout_cost", "ordering_cost"),
            "Expected cost per day: holding {holding_cost}, stock-out {stockout_cost}, "
            "ordering {ordering_cost}.",
        ),
        (
            ("fill_rate", "in_stock_prob"),
            "Expected fill rate {fill_rate}; probability of no stock-out in a cycle "
            "{in_stock_prob}.",
        ),
        (("status", "reason"), "Status {status}: {reason}."),
    ),
    "place": (
        (
            ("sku", "node", "target_units", "current_units"),
            "Sku {sku} at {node}: hold {target_units} units for the period (now {current_units}).",
        ),
        (("inbound_units",), "Arriving buys received here: {inbound_units} units."),
        (
            ("transfer_in", "transfer_out"),
            "Transfers: {transfer_in} units in, {transfer_out} out.",
        ),
        (
            ("expected_demand", "days_of_cover"),
            "It serves an expected {expected_demand} units of demand: {days_of_cover} days of "
            "cover.",
        ),
        (("fair_share",), "Scarce-supply fair share applied: {fair_share}."),
    ),
    "promise": (
        (
            ("order_id", "line", "sku", "qty", "destination"),
            "Order {order_id} line {line}: {qty} x {sku} to {destination}.",
        ),
        (
            ("ship_node", "ship_date"),
            "It ships from {ship_node} on {ship_date}.",
        ),
        (("path",), "The path taken is {path}; its lanes set the transit time."),
        (
            ("promise_date", "promise_days"),
            "Promised delivery on {promise_date}, {promise_days} day(s) after the order.",
        ),
        (("on_time_prob",), "Probability of arriving by then: {on_time_prob}."),
        (("waits_for",), "It waits for a receipt arriving on {waits_for}."),
        (("status", "reason"), "Status {status}: {reason}."),
        (("status",), "Status {status}."),
    ),
    "route": (
        (
            ("order_id", "line", "ship_node", "path"),
            "Order {order_id} line {line} ships from {ship_node} along {path}.",
        ),
        (("depart", "arrive"), "It departs {depart} and arrives {arrive}."),
        (("truck_ids",), "Trucks: {truck_ids}."),
        (("promise_date", "on_time"), "Promise date {promise_date}; on time: {on_time}."),
        (("status", "reason"), "Status {status}: {reason}."),
    ),
}

_NODE_COLUMNS = ("node", "ship_node", "fc", "location")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def select_rows(
    output: pl.DataFrame,
    *,
    name: str,
    sku: str | None = None,
    node: str | None = None,
    order: str | None = None,
) -> pl.DataFrame:
    """The output rows of one decision; an error naming the file and key when none match."""
    if sku is None and order is None:
        raise UsageError("explain RUN needs --sku SKU (with --node NODE) or --order ORDER")
    wanted: list[tuple[str, str]] = []
    if sku is not None:
        wanted.append(("sku", sku))
    if order is not None:
        wanted.append(("order_id", order))
    if node is not None:
        col = next((c for c in _NODE_COLUMNS if c in output.columns), None)
        if col is None:
            raise UsageError(f"--node: {name} has no node column; leave --node out")
        wanted.append((col, node))
    rows = output
    for col, value in wanted:
        if col not in output.columns:
            raise UsageError(f"{name} has no {col} column; choose the decision another way")
        rows = rows.filter(pl.col(col).cast(pl.String) == value)
    if rows.height == 0:
        key = ", ".join(f"{c}={v!r}" for c, v in wanted)
        raise InputDataError(f"{name}: no row with {key}; check the key (scot inspect {name})")
    return rows


def _sentences(command: str, row: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    present = {k for k, v in row.items() if v is not None}
    used: set[str] = set()
    lines = []
    for columns, template in SENTENCES.get(command, ()):
        if not set(columns) <= present or set(columns) <= used:
            continue
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        lines.append(template.format(**{k: _fmt(row[k]) for k in names}))
        used |= set(columns)
    return lines, used


def constraint_sentences(constraints: pl.DataFrame, nodes: Sequence[str]) -> list[str]:
    """The binding constraints at ``nodes`` (place's constraints table) with shadow prices."""
    if "binding" not in constraints.columns:
        return []
    hit = constraints.filter(pl.col("binding") & pl.col("node").is_in(list(nodes)))
    if hit.height == 0:
        return [f"No constraint binds at {', '.join(nodes)}."]
    return [
        f"The {r['constraint']} constraint at {r['node']} binds (used {_fmt(r['used'])} of "
        f"{_fmt(r['limit'])}); its shadow price is {_fmt(r['shadow_price'])} per unit."
        for r in hit.iter_rows(named=True)
    ]


def explain_decision(
    command: str,
    rows: pl.DataFrame,
    meta: Mapping[str, Any],
    *,
    constraints: pl.DataFrame | None = None,
) -> list[str]:
    """Plain sentences taking one decision (its output rows) apart.

    Parameters
    ----------
    command
        Command that wrote the rows (from provenance).
    rows
        The decision's output rows (see :func:`select_rows`).
    meta
        The output's provenance (command, params, inputs, created).
    constraints
        The same run's constraints table (place), for the binding constraints.
    """
    lines: list[str] = []
    for row in rows.iter_rows(named=True):
        said, used = _sentences(command, row)
        rest = [f"{k} = {_fmt(v)}" for k, v in row.items() if k not in used and v is not None]
        lines += said
        if rest:
            lines.append("Other columns: " + "; ".join(rest) + ".")
    if constraints is not None and "node" in rows.columns:
        lines += constraint_sentences(
            constraints, rows["node"].unique(maintain_order=True).to_list()
        )
    return lines + provenance_sentences(meta)


def provenance_sentences(meta: Mapping[str, Any]) -> list[str]:
    """Where the decision came from: command, time, inputs and parameters."""
    inputs: Sequence[Mapping[str, str]] = meta.get("inputs", ())
    params: Mapping[str, Any] = meta.get("params", {})
    shown = ", ".join(f"{i['role']}={i['path']}" for i in inputs) or "no recorded inputs"
    version = f" (version {meta['scot_version']})" if meta.get("scot_version") else ""
    when = f" at {meta['created']}" if meta.get("created") else ""
    lines = [f"Written by scot {meta.get('command')}{version}{when} from {shown}."]
    shown_params = {k: v for k, v in sorted(params.items()) if v is not None}
    if shown_params:
        lines.append("Parameters: " + ", ".join(f"{k}={v}" for k, v in shown_params.items()) + ".")
    return lines
