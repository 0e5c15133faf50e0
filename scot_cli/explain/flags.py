"""Data-quality flags: driver inputs that look wrong and deserve a look before the answer.

Each check returns rows of the ``explain_flags`` table (role, key, column,
before, after, flag); one row per offending row key, capped per check so a
broken file yields a readable list.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import polars as pl

from scot_cli.explain.mixing import Scenario

#: A ratio of new to old at least this large (or its inverse) is a jump.
JUMP_RATIO = 5.0
#: Flag rows kept per check.
MAX_PER_CHECK = 50

#: (role, column, noun, unit) pairs checked for jumps between the runs.
JUMP_COLUMNS = (
    ("items", "lead_time_days", "lead time", " days"),
    ("items", "lead_time_sd", "lead-time spread", " days"),
    ("items", "unit_cost", "unit cost", ""),
    ("lanes", "transit_days", "transit time", " days"),
)

_SCHEMA = {
    "role": pl.String,
    "key": pl.String,
    "column": pl.String,
    "before": pl.String,
    "after": pl.String,
    "flag": pl.String,
}


def _key_expr(keys: Sequence[str]) -> pl.Expr:
    parts: list[pl.Expr] = []
    for i, k in enumerate(keys):
        prefix = ("" if i == 0 else ", ") + f"{k}="
        parts += [pl.lit(prefix), pl.col(k).cast(pl.String)]
    return pl.concat_str(parts)


def _fmt(col: str) -> pl.Expr:
    return pl.col(col).round(3).cast(pl.String)


def jumps(
    old: Scenario, new: Scenario, *, keys: Mapping[str, Sequence[str]], ratio: float = JUMP_RATIO
) -> pl.DataFrame:
    """Rows whose value rose or fell at least ``ratio``-fold between the runs."""
    out = []
    for role, column, noun, unit in JUMP_COLUMNS:
        o, n, k = old.inputs.get(role), new.inputs.get(role), list(keys.get(role, ()))
        if o is None or n is None or not k or column not in o.columns or column not in n.columns:
            continue
        both = o.select(*k, pl.col(column).alias("b")).join(
            n.select(*k, pl.col(column).alias("a")), on=k, how="inner"
        )
        r = pl.col("a") / pl.col("b")
        hit = both.filter((pl.col("b") > 0) & ((r >= ratio) | (r <= 1 / ratio)))
        factor = pl.when(r >= 1).then(r).otherwise(1 / r).round(1).cast(pl.String)
        word = pl.when(r >= 1).then(pl.lit(" rose ")).otherwise(pl.lit(" fell "))
        out.append(
            hit.head(MAX_PER_CHECK).select(
                pl.lit(role).alias("role"),
                _key_expr(k).alias("key"),
                pl.lit(column).alias("column"),
                _fmt("b").alias("before"),
                _fmt("a").alias("after"),
                pl.concat_str(
                    pl.lit(noun),
                    word,
                    factor,
                    pl.lit("x ("),
                    _fmt("b"),
                    pl.lit(" -> "),
                    _fmt("a"),
                    pl.lit(unit + "); check the input"),
                ).alias("flag"),
            )
        )
    return _concat(out)


def _cold(scen: Scenario, name: str) -> pl.DataFrame:
    f = scen.inputs.get("forecast")
    if f is None or "model" not in f.columns or "sku" not in f.columns:
        return pl.DataFrame(schema={"sku": pl.String, name: pl.String})
    hit = f.filter(pl.col("model").str.starts_with("cold_start"))
    return hit.group_by("sku").agg(pl.col("model").first().alias(name))


def cold_start(old: Scenario, new: Scenario) -> pl.DataFrame:
    """Skus whose forecast (in either run) comes from a cold-start model."""
    both = _cold(old, "before").join(_cold(new, "after"), on="sku", how="full", coalesce=True)
    runs = (
        pl.when(pl.col("before").is_null())
        .then(pl.lit("AFTER's"))
        .when(pl.col("after").is_null())
        .then(pl.lit("BEFORE's"))
        .otherwise(pl.lit("both runs'"))
    )
    return _concat(
        [
            both.sort("sku")
            .head(MAX_PER_CHECK)
            .select(
                pl.lit("forecast").alias("role"),
                pl.concat_str(pl.lit("sku="), pl.col("sku")).alias("key"),
                pl.lit("model").alias("column"),
                "before",
                "after",
                pl.concat_str(
                    runs, pl.lit(" forecast comes from a cold-start model; no sales history")
                ).alias("flag"),
            )
        ]
    )


def bad_values(
    old: Scenario,
    new: Scenario,
    *,
    keys: Mapping[str, Sequence[str]],
    declared: Collection[str] = (),
) -> pl.DataFrame:
    """Negative or non-finite values in numeric columns of either run's undeclared roles.

    Roles in ``declared`` were validated against their table on read (bounds, NaN),
    so only the other roles are checked.
    """
    out = []
    for label, scen in (("before", old), ("after", new)):
        for role, frame in sorted(scen.inputs.items()):
            if role in declared:
                continue
            k = [c for c in keys.get(role, ()) if c in frame.columns]
            for column, dtype in frame.schema.items():
                if column in k or not dtype.is_numeric():
                    continue
                out.append(_bad_column(frame, role, column, k, label, dtype.is_float()))
    return _concat(out)


def _bad_column(
    frame: pl.DataFrame, role: str, column: str, keys: list[str], label: str, is_float: bool
) -> pl.DataFrame:
    c = pl.col(column)
    bad = c < 0
    if is_float:
        bad = bad | c.is_nan() | c.is_infinite()
    what = pl.when(c < 0).then(pl.lit("negative")).otherwise(pl.lit("not a finite number"))
    hit = frame.filter(bad.fill_null(False)).head(MAX_PER_CHECK)
    key = _key_expr(keys) if keys else pl.lit("row")
    value = c.cast(pl.String)
    return hit.select(
        pl.lit(role).alias("role"),
        key.alias("key"),
        pl.lit(column).alias("column"),
        (value if label == "before" else pl.lit(None, pl.String)).alias("before"),
        (value if label == "after" else pl.lit(None, pl.String)).alias("after"),
        pl.concat_str(pl.lit(f"{label.upper()} value is "), what).alias("flag"),
    )


def missing_targets(old: Scenario, new: Scenario) -> pl.DataFrame:
    """Items with neither a service level nor a stock-out cost (the command's default applies)."""
    out = []
    for label, scen in (("before", old), ("after", new)):
        items = scen.inputs.get("items")
        if items is None or "sku" not in items.columns:
            continue
        cols = [c for c in ("service_level", "stockout_cost") if c in items.columns]
        hit = items.filter(pl.all_horizontal(pl.col(c).is_null() for c in cols)) if cols else items
        out.append(
            hit.head(MAX_PER_CHECK).select(
                pl.lit("items").alias("role"),
                pl.concat_str(pl.lit("sku="), pl.col("sku")).alias("key"),
                pl.lit("service_level").alias("column"),
                pl.lit(None, pl.String).alias("before"),
                pl.lit(None, pl.String).alias("after"),
                pl.lit(
                    f"{label.upper()}: no service level and no stock-out cost; the default "
                    "target applies"
                ).alias("flag"),
            )
        )
    return _concat(out)


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    parts = [p.cast(_SCHEMA) for p in parts if p.height]  # type: ignore[arg-type]
    return pl.concat(parts) if parts else pl.DataFrame(schema=_SCHEMA)


def quality_flags(
    old: Scenario,
    new: Scenario,
    *,
    keys: Mapping[str, Sequence[str]],
    declared: Collection[str] = (),
) -> pl.DataFrame:
    """All data-quality flags of a comparison, sorted by role, key and column.

    Parameters
    ----------
    old, new
        The two runs' inputs.
    keys
        Row keys per role (to name the offending row).
    declared
        Roles validated against a declared table on read.
    """
    frames = [
        jumps(old, new, keys=keys),
        cold_start(old, new),
        missing_targets(old, new),
        bad_values(old, new, keys=keys, declared=declared),
    ]
    return _concat(frames).unique(maintain_order=True).sort("role", "key", "column", "flag")
