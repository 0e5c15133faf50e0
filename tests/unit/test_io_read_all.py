"""Run.read_all reads inputs at once but behaves as reading them one after another."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import sys
from pathlib import Path

import polars as pl
import pytest

from scot_cli.errors import InputDataError, UsageError
from scot_cli.io import Run
from scot_cli.schema import INVENTORY, SALES


def _sales(path: Path, skus: list[str]) -> Path:
    pl.DataFrame(
        {"sku": skus, "date": [dt.date(2026, 1, 1)] * len(skus), "units": [1.0] * len(skus)}
    ).write_parquet(path)
    return path


def _inventory(path: Path) -> Path:
    pl.DataFrame({"sku": ["A"], "node": ["FC1"], "on_hand": [3.0]}).write_parquet(path)
    return path


def test_frames_and_sources_in_the_order_given(tmp_path: Path) -> None:
    sales = _sales(tmp_path / "sales.parquet", ["B", "A"])
    stock = _inventory(tmp_path / "stock.parquet")
    run = Run("unit")
    frames = run.read_all(
        [(str(sales), SALES, "sales"), (None, SALES, "absent"), (str(stock), INVENTORY, "stock")]
    )
    one = Run("unit")
    assert frames[0] is not None and frames[0].equals(one.read(str(sales), SALES, role="sales"))
    assert frames[1] is None
    assert frames[2] is not None and frames[2].equals(one.read(str(stock), INVENTORY))
    assert [s.role for s in run.sources] == ["sales", "stock"]
    assert run.sources[0].sha256 == hashlib.sha256(sales.read_bytes()).hexdigest()
    assert run.sources[1].sha256 == hashlib.sha256(stock.read_bytes()).hexdigest()


def test_the_first_failure_in_order_is_raised(tmp_path: Path) -> None:
    dup = _sales(tmp_path / "dup.parquet", ["A", "A"])
    missing = tmp_path / "missing.parquet"
    good = _sales(tmp_path / "good.parquet", ["A"])
    run = Run("unit")
    with pytest.raises(InputDataError, match=r"dup\.parquet: duplicate key"):
        run.read_all([(str(good), SALES, "a"), (str(dup), SALES, "b"), (str(missing), SALES, "c")])
    run = Run("unit")
    with pytest.raises(InputDataError, match="no such file"):
        run.read_all([(str(missing), SALES, "c"), (str(dup), SALES, "b")])


def test_stdin_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    pl.DataFrame({"sku": ["A"], "date": [dt.date(2026, 1, 1)], "units": [1.0]}).write_parquet(buf)

    class Stdin:
        buffer = io.BytesIO(buf.getvalue())

    monkeypatch.setattr(sys, "stdin", Stdin())
    good = _sales(tmp_path / "good.parquet", ["A"])
    run = Run("unit")
    frames = run.read_all([("-", SALES, "a"), (str(good), SALES, "b")])
    assert frames[0] is not None and frames[0].height == 1
    assert [s.path for s in run.sources] == ["-", str(good)]
    Stdin.buffer = io.BytesIO(buf.getvalue())
    with pytest.raises(UsageError, match="only one input can come from stdin"):
        Run("unit").read_all([(str(good), SALES, "a"), ("-", SALES, "b"), ("-", SALES, "c")])


def test_parquet_read_from_its_path_is_hashed_and_checked(tmp_path: Path) -> None:
    sales = _sales(tmp_path / "sales.parquet", ["B", "A"])
    run = Run("unit")
    df = run.read(str(sales), SALES, role="sales")
    assert df.get_column("sku").to_list() == ["B", "A"]
    assert run.sources[0].sha256 == hashlib.sha256(sales.read_bytes()).hexdigest()
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\0" * 64 + b"PAR1")
    with pytest.raises(InputDataError, match=r"bad\.parquet: cannot be read as Parquet"):
        Run("unit").read(str(bad), SALES)


def test_a_file_changed_while_read_is_read_again_from_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scot_cli.io as sio

    sales = _sales(tmp_path / "sales.parquet", ["A"])
    seen = iter([(1,), (2,)])  # the file's identity differs after the read
    monkeypatch.setattr(sio, "_identity", lambda path: next(seen))
    calls: list[str] = []
    real = sio.read_input_bytes

    def spy(path: str) -> bytes:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(sio, "read_input_bytes", spy)
    run = Run("unit")
    df = run.read(str(sales), SALES)
    assert calls == [str(sales)] and df.height == 1
    assert run.sources[0].sha256 == hashlib.sha256(sales.read_bytes()).hexdigest()
