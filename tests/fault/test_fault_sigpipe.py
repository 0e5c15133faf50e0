"""A closed pipe ends every command quietly with exit 0 (``scot ... | head -c 1``)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from fault.faultkit import ENV, commands, make_data, popen, scot_exe

NAMES = [
    "check",
    "explain",
    "fixtures",
    "forecast",
    "forecast evaluate",
    "help",
    "inspect",
    "place",
    "plan-buy",
    "promise commit",
    "promise snapshot",
    "route",
    "route last-mile",
    "sql",
    "version",
]
NOISE = (
    "Traceback",
    "Exception ignored",
    "BrokenPipe",
    "Broken pipe",
    "scot: error",
    "internal error",
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_data(tmp_path_factory.mktemp("pipe"), skus=6, days=120)


def _quiet(err: str) -> list[str]:
    return [line for line in err.splitlines() if any(n in line for n in NOISE)]


@pytest.mark.parametrize("name", NAMES)
def test_reader_gone_before_the_first_write(
    name: str, data: dict[str, Path], tmp_path: Path
) -> None:
    """The reading end is closed before scot writes anything: its first write fails (EPIPE)."""
    args = commands(data)[name]
    err_path = tmp_path / "stderr"
    with err_path.open("wb") as err:
        proc = popen(args, stdout=subprocess.PIPE, stderr=err, cwd=tmp_path)
        assert proc.stdout is not None
        proc.stdout.close()
        code = proc.wait(timeout=300)
    err_text = err_path.read_text(errors="replace")
    assert code == 0, err_text
    assert _quiet(err_text) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", [*NAMES, "demo"])
def test_head_c_1_in_a_pipefail_shell(name: str, data: dict[str, Path], tmp_path: Path) -> None:
    """What a cron script sees: ``set -o pipefail; scot ... | head -c 1`` succeeds quietly."""
    args = ["demo", "--out", str(tmp_path / "demo")] if name == "demo" else commands(data)[name]
    line = f"{shlex.join([*scot_exe(), *args])} 2>stderr | head -c 1 >/dev/null"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line], cwd=tmp_path, env=ENV, check=False, timeout=600
    )
    err_text = (tmp_path / "stderr").read_text(errors="replace")
    assert done.returncode == 0, err_text
    assert _quiet(err_text) == []
