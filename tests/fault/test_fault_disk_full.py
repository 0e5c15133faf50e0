"""A full disk: the run fails with one ``scot: error:`` line, the previous output is intact
and nothing is left behind.

The disk is a small tmpfs mounted for the test (needs root and a kernel that lets this
process mount; skipped with the reason otherwise). The same failure is also provoked without
privileges through a file-size limit (``RLIMIT_FSIZE``: writes fail with EFBIG instead of
ENOSPC), which runs everywhere.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from fault.faultkit import ENV, litter, make_data, ok, scot_exe, sha


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_data(tmp_path_factory.mktemp("disk"), skus=12, days=150)


def _runs(p: dict[str, Path]) -> dict[str, list[str]]:
    return {
        "forecast": ["forecast", str(p["sales"]), "-H", "28"],
        "plan-buy": [
            "plan-buy",
            str(p["forecast"]),
            "--items",
            str(p["items"]),
            "--inventory",
            str(p["inventory"]),
        ],
        "sql": ["sql", f"select * from '{p['sales']}' order by all", "-f", "parquet"],
    }


@contextlib.contextmanager
def small_disk(where: Path, size_kb: int) -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Write a filler so that about ``leave`` bytes stay free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with (folder / "filler").open("wb") as f:
        f.write(b"\0" * max(free - leave, 0))


def _check_failure(done: subprocess.CompletedProcess[bytes], target: Path, before: str) -> None:
    err = done.stderr.decode(errors="replace")
    assert done.returncode not in (0, 2), err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scot: error: "), err
    assert sha(target) == before


@pytest.mark.parametrize(
    "name", ["sql", pytest.param("forecast", marks=pytest.mark.slow), "plan-buy"]
)
def test_disk_full_keeps_previous_output(name: str, data: dict[str, Path], tmp_path: Path) -> None:
    args = _runs(data)[name]
    full = tmp_path / "full.parquet"
    ok(*args, "-o", str(full))
    size = full.stat().st_size
    with small_disk(tmp_path / "disk", size_kb=max(4 * size // 1024, 256)) as disk:
        target = disk / "out.parquet"
        pl.DataFrame({"previous": [1, 2, 3]}).write_parquet(target)
        before = sha(target)
        _fill(disk, leave=size // 3)
        done = subprocess.run(
            [*scot_exe(), *args, "-o", str(target)],
            capture_output=True,
            env=ENV,
            check=False,
            timeout=300,
        )
        _check_failure(done, target, before)
        assert litter(disk, [target, disk / "filler"]) == []


@pytest.mark.parametrize(
    "name", ["sql", pytest.param("forecast", marks=pytest.mark.slow), "plan-buy"]
)
def test_file_size_limit_keeps_previous_output(
    name: str, data: dict[str, Path], tmp_path: Path
) -> None:
    args = _runs(data)[name]
    full = tmp_path / "full.parquet"
    ok(*args, "-o", str(full))
    limit = full.stat().st_size // 3
    out = tmp_path / "out"
    out.mkdir()
    target = out / "out.parquet"
    pl.DataFrame({"previous": [1, 2, 3]}).write_parquet(target)
    before = sha(target)

    def limit_writes() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [*scot_exe(), *args, "-o", str(target)],
        capture_output=True,
        env=ENV,
        check=False,
        timeout=300,
        preexec_fn=limit_writes,
    )
    _check_failure(done, target, before)
    assert litter(out, [target]) == []
