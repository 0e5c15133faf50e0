"""Check polars frames against the declarations in :mod:`scot_cli.schema`."""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError
from scot_cli.schema import INPUT_TABLES, Table

POLARS_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "f64": pl.Float64(),
    "i64": pl.Int64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}


def polars_schema(table: Table) -> dict[str, pl.DataType]:
    """The polars schema of a declared table (all columns, declaration order)."""
    return {c.name: POLARS_DTYPES[c.dtype] for c in table.columns}


def empty_frame(table: Table) -> pl.DataFrame:
    """A zero-row frame with the table's columns and dtypes."""
    return pl.DataFrame(schema=polars_schema(table))


def _compatible(actual: pl.DataType, expected: pl.DataType) -> bool:
    if actual == expected:
        return True
    if isinstance(expected, pl.Float64):
        return actual.is_numeric()
    if isinstance(expected, pl.Int64):
        return actual.is_integer()
    if isinstance(expected, pl.String):
        return isinstance(actual, pl.String | pl.Categorical | pl.Enum)
    if isinstance(expected, pl.Datetime | pl.Date):
        return isinstance(actual, pl.Datetime)
    return False


def _fmt_key(row: dict[str, object], keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={row[k]!r}" for k in keys)


#: Frames :func:`validate` returned after a full check, by ``id``: a weak reference, the
#: table, and the frame's height and schema when it was checked.
_CHECKED: dict[int, tuple[weakref.ref[pl.DataFrame], Table, int, pl.Schema]] = {}


def _remember(table: Table, df: pl.DataFrame) -> None:
    key = id(df)
    _CHECKED[key] = (
        weakref.ref(df, lambda _ref: _CHECKED.pop(key, None)),
        table,
        df.height,
        df.schema,
    )


def already_validated(table: Table, df: pl.DataFrame) -> bool:
    """Whether ``df`` is a frame that :func:`validate` returned for ``table`` (a full check,
    not ``trusted``) in this process, with the same height and schema since: a library call
    handed the frames a command has just read need not check them again."""
    entry = _CHECKED.get(id(df))
    return (
        entry is not None
        and entry[0]() is df
        and entry[1] is table
        and entry[2] == df.height
        and entry[3] == df.schema
    )


def validate(table: Table, df: pl.DataFrame, *, source: str, trusted: bool = False) -> pl.DataFrame:
    """Validate ``df`` against ``table`` and return it with canonical dtypes.

    ``trusted`` is for a frame scot built from validated inputs whose keys it keeps (a
    command's output): its keys are not checked for duplicates again, and its Enum columns
    stay Enum where the table declares strings (their categories are checked against the
    column's choices instead of every row). Every other check runs as usual.

    Raises
    ------
    InputDataError
        On a missing column, an incompatible dtype, a null or duplicate key,
        a value out of bounds or outside its allowed choices.
    """
    missing = [c for c in table.required if c not in df.columns]
    if missing:
        raise InputDataError(
            f"{source}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)} "
            f"for the {table.name} table (expected {', '.join(table.required)})"
        )
    for name, value in table.defaults.items():
        if name not in df.columns:
            df = df.with_columns(pl.lit(value).alias(name))
    casts = []
    for col in table.columns:
        if col.name not in df.columns:
            continue
        expected = POLARS_DTYPES[col.dtype]
        actual = df.schema[col.name]
        if isinstance(actual, pl.Null):
            casts.append(pl.col(col.name).cast(expected))
            continue
        if not _compatible(actual, expected):
            raise InputDataError(
                f"{source}: column {col.name!r} has dtype {actual}, expected "
                f"{col.dtype} ({col.description})"
            )
        if actual != expected and not (trusted and isinstance(actual, pl.Enum)):
            casts.append(pl.col(col.name).cast(expected))
    if casts:
        df = df.with_columns(casts)
    if df.height == 0:
        return df
    found = _scan(table, df, trusted=trusted)
    _check_nulls(table, df, source, found)
    if not trusted:
        _check_keys(table, df, source, sorted_keys=found.pop("keys sorted", False))
    _check_values(table, df, source, found)
    if not trusted:
        _check_dates(table, df, source, found)
        for column in table.spans:
            lo, hi = found.get(f"{column} lo"), found.get(f"{column} hi")
            if lo is not None and hi is not None and hi - lo >= MAX_SPAN_DAYS:
                check_span(df, column, keys=table.keys, source=source)
        for start, end in table.intervals:
            check_interval(
                df, start, end, keys=table.keys or (table.columns[0].name,), source=source
            )
        _remember(table, df)
    return df


def _scan(table: Table, df: pl.DataFrame, *, trusted: bool) -> dict[str, Any]:
    """Every check's verdict in one pass over ``df``: polars evaluates the expressions of
    one ``select`` together (in parallel, each column read once); a failing check then looks
    at the rows again to name the first culprit.

    Keys: ``keys sorted`` is whether the rows are in strictly increasing key order, which
    proves every key distinct (tables are often written in key order; the test,
    :func:`in_key_order` after the ``select``, costs a fraction of hashing the keys).
    """
    exprs: list[pl.Expr] = []
    nullable = [c.name for c in table.columns if c.name in df.columns and not c.nullable]
    exprs += [pl.col(c).null_count().alias(f"{c} nulls") for c in nullable]
    for i, (_, expr, _) in enumerate(_value_checks(table, df)):
        exprs.append(expr.fill_null(False).any().alias(f"value {i}"))
    if not trusted:
        for c in _date_columns(table, df):
            day = pl.col(c).cast(pl.Date)
            exprs += [day.min().alias(f"{c} first"), day.max().alias(f"{c} last")]
        for c in table.spans:
            if c in df.columns:
                days = pl.col(c).cast(pl.Date).to_physical().cast(pl.Int64)
                exprs += [days.min().alias(f"{c} lo"), days.max().alias(f"{c} hi")]
    found = dict(df.select(exprs).row(0, named=True)) if exprs else {}
    if not trusted:
        keys = [k for k in table.keys if k in df.columns]
        if keys and df.height > 1:
            found["keys sorted"] = in_key_order(df, keys)
    return found


def in_key_order(df: pl.DataFrame, keys: Sequence[str], *, strict: bool = True) -> bool:
    """Whether every row of ``df`` comes before the next in the order of ``keys``
    (``strict``: and differs from it, which proves the keys distinct): the verdict of
    ``strictly_sorted(keys, strict=strict)`` over all rows but the last, null keys out of
    order.

    Cheaper than that expression on long frames: only the last key is compared with the
    next row everywhere (in numpy when it is a number or a date); the keys before it must
    not decrease anywhere (polars' sortedness test of the column, one pass without a
    temporary) and must increase at the rows where the last key does not, which are
    compared alone. On a forecast in key order (sku, location, date) that is one date
    comparison and a string comparison at each sku's last row. Keys of other types (floats,
    categoricals) and null keys take the expression.
    """
    n = df.height
    if n < 2 or not keys:
        return True
    cols = [df.get_column(k) for k in keys]
    if any(c.null_count() for c in cols) or not all(_orderable(c.dtype) for c in cols):
        return bool(df.select(strictly_sorted(keys, strict=strict).slice(0, n - 1).all()).item())
    # rows (of the first n - 1) where the keys before the one at hand must increase
    at = _steps(cols[-1], strict=strict)
    for j in range(len(cols) - 1, 0, -1):
        if at.size and not _increase_at(cols[:j], at):
            return False
        at = _steps(cols[j - 1], strict=False)
    return at.size == 0


def _orderable(dtype: pl.DataType) -> bool:
    """Key types :func:`in_key_order` compares itself (no NaN, one total order)."""
    return (
        isinstance(dtype, pl.String | pl.Boolean | pl.Date | pl.Datetime | pl.Time)
        or dtype.is_integer()
    )


def _steps(col: pl.Series, *, strict: bool) -> np.ndarray:
    """Rows ``i`` (of the first n - 1) where ``col[i] >= col[i + 1]`` (``strict``) or
    ``col[i] > col[i + 1]`` (no nulls)."""
    n = col.len()
    if not strict and not col.flags["SORTED_ASC"] and col.is_sorted():
        # a column polars has not marked sorted is tested value by value
        return np.zeros(0, dtype=np.int64)
    if isinstance(col.dtype, pl.String):
        lo, hi = col.slice(0, n - 1), col.slice(1)
        return (lo >= hi if strict else lo > hi).arg_true().to_numpy().astype(np.int64)
    values = col.to_physical().to_numpy()
    a, b = values[:-1], values[1:]
    return np.flatnonzero(a >= b if strict else a > b)


def _increase_at(cols: Sequence[pl.Series], at: np.ndarray) -> bool:
    """Whether row ``i`` comes strictly before row ``i + 1`` in the order of ``cols`` at
    every ``i`` of ``at``."""
    lo = [c.gather(at) for c in cols]
    hi = [c.gather(at + 1) for c in cols]
    less = lo[-1] < hi[-1]
    for a, b in zip(reversed(lo[:-1]), reversed(hi[:-1]), strict=True):
        less = (a < b) | ((a == b) & less)
    return bool(less.all())


def strictly_sorted(cols: Sequence[str], *, strict: bool = True) -> pl.Expr:
    """Per row but the last: whether it comes before the next row in the order of ``cols``
    (``strict``: and differs from it); null comparisons count as out of order. Slice off the
    last row and take ``all()`` to test a whole frame."""
    expr: pl.Expr | None = None
    for c in reversed(cols):
        cur, nxt = pl.col(c), pl.col(c).shift(-1)
        last = (cur < nxt) if strict else (cur <= nxt)
        expr = last if expr is None else (cur < nxt) | ((cur == nxt) & expr)
    assert expr is not None
    return expr.fill_null(False)


def _where(table: Table, bad: pl.DataFrame) -> str:
    keys = [k for k in table.keys if k in bad.columns]
    if not keys:
        return ""
    return f", first at {_fmt_key(bad.row(0, named=True), keys)}"


def _check_nulls(table: Table, df: pl.DataFrame, source: str, found: dict[str, Any]) -> None:
    cols = [c.name for c in table.columns if c.name in df.columns and not c.nullable]
    for name in cols:
        if found[f"{name} nulls"]:
            nulls = df.filter(pl.col(name).is_null())
            raise InputDataError(
                f"{source}: column {name!r} has {nulls.height} null value(s)"
                f"{_where(table, nulls)}; fill or drop them"
            )


def _check_keys(table: Table, df: pl.DataFrame, source: str, *, sorted_keys: bool) -> None:
    if not table.keys or df.height == 0 or sorted_keys:
        return
    keys = list(table.keys)
    # Distinct row hashes prove distinct keys (a collision can only lower the count), and
    # hashing is several times faster than an exact distinct count of string keys.
    if df.select(pl.struct(keys).hash(seed=0).n_unique()).item() == df.height:
        return
    dup = df.select(keys).filter(pl.struct(keys).is_duplicated())
    key = _fmt_key(dup.row(0, named=True), keys)
    raise InputDataError(
        f"{source}: duplicate key ({', '.join(keys)}) at {key}; each key must appear once"
    )


def _value_checks(table: Table, df: pl.DataFrame) -> list[tuple[str, pl.Expr, str]]:
    checks: list[tuple[str, pl.Expr, str]] = []
    for col in table.columns:
        if col.name not in df.columns:
            continue
        c = pl.col(col.name)
        if col.min is not None:
            checks.append((col.name, c < col.min, f"below its minimum {col.min:g}"))
        if col.max is not None:
            checks.append((col.name, c > col.max, f"above its maximum {col.max:g}"))
        dtype = df.schema[col.name]
        if col.choices is not None and not (
            isinstance(dtype, pl.Enum) and set(dtype.categories.to_list()) <= set(col.choices)
        ):
            values = c.cast(pl.String) if isinstance(dtype, pl.Enum) else c
            checks.append(
                (col.name, ~values.is_in(list(col.choices)), f"not one of {', '.join(col.choices)}")
            )
        if col.dtype == "f64":
            checks.append((col.name, ~c.is_finite(), "(not a finite number)"))
        if col.pattern is not None:
            whole = f"^(?:{col.pattern})$"
            checks.append(
                (col.name, ~c.cast(pl.String).str.contains(whole), f"(not {col.pattern_rule})")
            )
    return checks


def _check_values(table: Table, df: pl.DataFrame, source: str, found: dict[str, Any]) -> None:
    checks = _value_checks(table, df)
    for i, (name, expr, what) in enumerate(checks):
        if found[f"value {i}"]:
            bad = df.filter(expr)
            value = bad.row(0, named=True)[name]
            raise InputDataError(
                f"{source}: column {name!r} has value {value!r} {what}{_where(table, bad)}"
            )


def check_references(
    df: pl.DataFrame,
    column: str,
    known: Iterable[str],
    *,
    source: str,
    known_source: str,
    what: str = "node",
) -> None:
    """Raise when ``df[column]`` names a value not in ``known`` (e.g. an unknown node)."""
    known_list = sorted(set(known))
    unknown = df.filter(~pl.col(column).is_in(known_list) & pl.col(column).is_not_null())
    if unknown.height:
        value = unknown[column][0]
        shown = ", ".join(known_list[:8]) + (", ..." if len(known_list) > 8 else "")
        raise InputDataError(
            f"{source}: {what} {value!r} in column {column} is not in {known_source} "
            f"(known: {shown})"
        )


#: Columns that must name a node of the nodes table, per table.
NODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "lanes": ("origin", "destination"),
    "inventory": ("node",),
    "orders": ("destination",),
    "calendar": ("node",),
}


def check_nodes(
    table: Table, df: pl.DataFrame, nodes: pl.DataFrame, *, source: str, nodes_source: str
) -> None:
    """Raise :class:`InputDataError` when ``df`` names a node that ``nodes`` lacks."""
    known = nodes.get_column("node").to_list()
    for column in NODE_COLUMNS.get(table.name, ()):
        check_references(df, column, known, source=source, known_source=nodes_source)


def check_network(
    nodes: pl.DataFrame,
    tables: Mapping[str, pl.DataFrame | None],
    *,
    sources: Mapping[str, str] | None = None,
) -> None:
    """The node references ``scot check TABLE --nodes`` makes, for every table of a run.

    ``tables`` maps an input table's name (``lanes``, ``inventory``, ``orders``,
    ``calendar``) to its frame (None: absent); ``sources`` names their files (default: the
    table names). Place, plan-buy with a network, promise and route call it before any work.

    Raises
    ------
    InputDataError
        On the first node not in ``nodes``, naming the table, column and node.
    """
    declared = {t.name: t for t in INPUT_TABLES}
    names = dict(sources or {})
    for name, df in tables.items():
        if df is not None:
            check_nodes(
                declared[name],
                df,
                nodes,
                source=names.get(name, name),
                nodes_source=names.get("nodes", "nodes"),
            )


#: Most days the dates of one table may spread over (100 years): wider is a date typo
#: (9999-12-31, 2999 for 2029), and every dense date axis is at most this long.
MAX_SPAN_DAYS = 36_525
#: Dates accepted in any input: far past or future dates are typos (9999-12-31 as "never"),
#: and date arithmetic on them overflows.
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
#: Most periods a forecast may look ahead (ten years of days): each period is a model fit
#: (the global model's direct strategy) and a column of every series' forecast.
MAX_HORIZON = 3_660
#: Most days one event may last (start to end, inclusive).
MAX_EVENT_DAYS = 366
#: Most cells one dense grid (dates x nodes x skus ...) may hold: 2^28, 2 GiB of float64.
MAX_GRID_CELLS = 1 << 28


def _date_columns(table: Table, df: pl.DataFrame) -> list[str]:
    return [c.name for c in table.columns if c.dtype in ("date", "datetime") and c.name in df]


def _check_dates(table: Table, df: pl.DataFrame, source: str, found: dict[str, Any]) -> None:
    cols = _date_columns(table, df)
    day = {c: pl.col(c).cast(pl.Date) for c in cols}
    outside = {c: (day[c] < DATE_MIN) | (day[c] > DATE_MAX) for c in cols}
    for name in cols:
        first, last = found[f"{name} first"], found[f"{name} last"]
        if (first is not None and first < DATE_MIN) or (last is not None and last > DATE_MAX):
            row = df.filter(outside[name].fill_null(False)).row(0, named=True)
            keys = [k for k in table.keys if k in df.columns and k != name]
            where = f" {_fmt_key(row, keys)}" if keys else ""
            raise InputDataError(
                f"{source}: column {name}{where}: {row[name]} is outside the accepted dates "
                f"{DATE_MIN} .. {DATE_MAX}; fix the date"
            )


def check_span(
    df: pl.DataFrame,
    column: str,
    *,
    keys: Sequence[str],
    source: str,
    limit: int = MAX_SPAN_DAYS,
    what: str = "its dates",
) -> None:
    """Raise when the dates of ``df[column]`` spread over ``limit`` days or more.

    The culprit is the extreme date farther from the median (a typo sits far from the rest);
    the message names it with its key and the dates accepted around the others.

    Raises
    ------
    InputDataError
        Naming ``source``, the column, the culprit's key and the accepted date range.
    """
    if column not in df.columns or df.height == 0:
        return
    days = df.get_column(column).cast(pl.Date).to_physical().cast(pl.Int64)
    if days.null_count() == days.len():
        return
    stats = pl.DataFrame({"d": days}).select(
        pl.col("d").min().alias("lo"), pl.col("d").max().alias("hi"), pl.col("d").median()
    )
    lo, hi, median = stats.row(0)
    if hi - lo < limit:
        return
    late = hi - median >= median - lo
    culprit, other = (hi, lo) if late else (lo, hi)
    first, last = (lo, lo + limit - 1) if late else (hi - limit + 1, hi)
    row = df.filter(days == culprit).row(0, named=True)
    where = [k for k in keys if k in df.columns and k != column]
    key = f" {_fmt_key(row, where)}" if where else ""
    raise InputDataError(
        f"{source}: column {column}{key}: {_date(culprit)} is {abs(culprit - other):,} days "
        f"from {_date(other)}, but {what} may span at most {limit:,} days; accepted dates "
        f"{_date(first)} .. {_date(last)}; fix the date"
    )


def check_interval(
    df: pl.DataFrame,
    start: str,
    end: str,
    *,
    keys: Sequence[str],
    source: str,
    limit: int = MAX_EVENT_DAYS,
) -> None:
    """Raise when a row's ``end`` is before its ``start`` or ``limit`` days or more after it.

    Raises
    ------
    InputDataError
        Naming ``source``, the column ``end``, the row's key and the accepted end dates.
    """
    if start not in df.columns or end not in df.columns or df.height == 0:
        return
    length = (pl.col(end) - pl.col(start)).dt.total_days()
    bad = df.filter((length < 0) | (length >= limit))
    if bad.height == 0:
        return
    row = bad.row(0, named=True)
    where = [k for k in keys if k in df.columns]
    first = row[start]
    last = first + dt.timedelta(days=limit - 1)
    raise InputDataError(
        f"{source}: column {end} {_fmt_key(row, where)}: {row[end]} is not within "
        f"{limit:,} days on or after {start} {first}; accepted dates {first} .. {last}; "
        "fix the date"
    )


def check_grid(shape: Mapping[str, int], *, cause: str, limit: int | None = None) -> None:
    """Raise before allocating a dense grid of ``shape`` (axis name -> length) over ``limit``
    (default :data:`MAX_GRID_CELLS`).

    ``cause`` names the input that made it large, e.g. ``"orders: column order_time spans
    2026-11-02 .. 2099-01-01"``.

    Raises
    ------
    InputDataError
        Naming the cause, the axes and the limit (see docs/architecture.md).
    """
    limit = MAX_GRID_CELLS if limit is None else limit
    cells = math.prod(max(int(n), 0) for n in shape.values())
    if cells <= limit:
        return
    dims = " x ".join(f"{fmt_count(n)} {name}" for name, n in shape.items())
    raise InputDataError(
        f"{cause}: that makes a grid of {dims} = {fmt_count(cells)} cells, over the {limit:,} "
        "one run may hold; check the input for a typo or split the run"
    )


def fmt_count(n: int) -> str:
    """``n`` with thousands separators, or in short scientific form when astronomically large."""
    return f"{int(n):,}" if abs(n) < 10**15 else f"{float(n):.3g}"


def _date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=day)


EPOCH = dt.date(1970, 1, 1)
