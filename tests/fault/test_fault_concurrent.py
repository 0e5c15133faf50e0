"""Two writers to one target: both succeed and the target is one complete, valid output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest
from fault.faultkit import litter, make_data, ok, popen


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_data(tmp_path_factory.mktemp("conc"), skus=6, days=120)


def _pairs(p: dict[str, Path]) -> dict[str, tuple[list[str], list[str]]]:
    buy = ["plan-buy", str(p["forecast"]), "--items", str(p["items"])]
    return {
        "forecast -H 7 / forecast -H 14": (
            ["forecast", str(p["sales"]), "-H", "7"],
            ["forecast", str(p["sales"]), "-H", "14"],
        ),
        "plan-buy / sql": (
            [*buy, "--inventory", str(p["inventory"])],
            ["sql", f"select * from '{p['sales']}' order by all", "-f", "parquet"],
        ),
    }


def _race(pair: tuple[list[str], list[str]], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "t.parquet"
    singles = []
    for i, args in enumerate(pair):
        ok(*args, "-o", str(tmp_path / f"single{i}.parquet"))
        singles.append(pl.read_parquet(tmp_path / f"single{i}.parquet"))
    procs = [
        popen([*a, "-o", str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for a in pair
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    got = pl.read_parquet(target)
    assert any(got.equals(s) for s in singles), "the target is neither writer's output"
    assert litter(out, [target]) == []


def test_two_forecasts_into_one_file(data: dict[str, Path], tmp_path: Path) -> None:
    _race(_pairs(data)["forecast -H 7 / forecast -H 14"], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
@pytest.mark.parametrize("pair", ["forecast -H 7 / forecast -H 14", "plan-buy / sql"])
def test_writers_race_repeatedly(
    pair: str, trial: int, data: dict[str, Path], tmp_path: Path
) -> None:
    first, second = _pairs(data)[pair]
    _race((first, second) if trial % 2 == 0 else (second, first), tmp_path)
