"""Unattended runs (issue 11): usage errors, outputs checked before any work, temporary files,
signals, closed pipes and explain on damaged provenance.

Most tests drive the CLI in-process; signals and closed pipes need a real process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

import scot_cli.errors
import scot_cli.io
from conftest import run_scot, scot_exe
from scot_cli.commands.main import app

runner = CliRunner()
MISSING = "missing-input.parquet"
TERMINAL = (
    "scot: error: refusing to write binary Parquet to a terminal; pass -o FILE or pipe into "
    "another command (e.g. '| scot inspect -')\n"
)


def _leaves() -> Iterator[tuple[list[str], Any]]:
    """(words typed after ``scot``, click command) of every command, the default ones by
    their group's name (``scot forecast``, not ``scot forecast run``)."""

    def walk(group: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                yield from walk(cmd, [*path, name])
            elif name == getattr(group, "default_command", None):
                yield path, cmd
            else:
                yield [*path, name], cmd

    yield from walk(typer.main.get_command(app), [])


def _hints(cmd: Any) -> dict[str, Any]:
    callback = cmd.callback
    return typing.get_type_hints(getattr(callback, "__wrapped__", callback))


def _required(cmd: Any) -> list[str]:
    """Values for the required parameters: a missing file, or 7 for a number. A check that
    happens before any work answers before the missing file is noticed (exit 3)."""
    hints, args = _hints(cmd), []
    for p in cmd.params:
        if p.required:
            value = "7" if hints.get(p.name) is int else MISSING
            args += [value] if p.param_type_name == "argument" else [p.opts[0], value]
    return args


def _numeric_options() -> list[tuple[list[str], str]]:
    found = []
    for path, cmd in _leaves():
        hints = _hints(cmd)
        for p in cmd.params:
            if p.param_type_name == "option" and hints.get(p.name) in (
                int,
                float,
                int | None,
                float | None,
            ):
                found.append(([*path, *_required(cmd)], max(p.opts, key=len)))
    return found


def _file_outputs() -> list[tuple[list[str], str]]:
    """Every option naming an output file (``-o``, ``--*-out``, ``--report``)."""
    found = []
    for path, cmd in _leaves():
        for p in cmd.params:
            name = str(p.name)
            if p.param_type_name != "option" or not (
                name in ("out", "report") or name.endswith("_out")
            ):
                continue
            if _hints(cmd).get(p.name) is Path and name == "out":
                continue  # an output folder (fixtures, demo)
            found.append(([*path, *_required(cmd)], p.opts[0]))
    return found


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("scot: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# Row 4: an output into a missing folder, or onto a folder, is refused before any work.


def test_every_command_has_file_outputs_listed() -> None:
    commands = {" ".join(path[:2]) for path, _ in _file_outputs()}
    for name in ("forecast", "plan-buy", "place", "promise", "route", "explain", "sql"):
        assert any(c.startswith(name) for c in commands), name


@pytest.mark.parametrize(("args", "flag"), _file_outputs(), ids=str)
def test_output_in_missing_folder_is_refused_before_any_work(
    args: list[str], flag: str, tmp_path: Path
) -> None:
    target = tmp_path / "nodir" / "x.parquet"
    result = runner.invoke(app, [*args, flag, str(target)])
    assert result.exit_code == 2, result.stderr
    assert _one_error_line(result.stderr) == (
        f"scot: error: {flag} {target}: folder {target.parent} does not exist; create it "
        f"first (mkdir -p {target.parent})"
    )
    assert not target.parent.exists()


@pytest.mark.parametrize(("args", "flag"), _file_outputs(), ids=str)
def test_output_onto_a_folder_is_refused_before_any_work(
    args: list[str], flag: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, [*args, flag, str(tmp_path)])
    assert result.exit_code == 2, result.stderr
    assert _one_error_line(result.stderr) == (
        f"scot: error: {flag} {tmp_path}: is a folder; give a file name, e.g. "
        f"{tmp_path / 'out.parquet'}"
    )


def test_sql_output_in_missing_folder_is_refused_before_the_query(tmp_path: Path) -> None:
    target = tmp_path / "nodir" / "x.parquet"
    query = f"select * from '{tmp_path / MISSING}'"  # the query itself would fail (exit 3)
    result = runner.invoke(app, ["sql", query, "-f", "parquet", "-o", str(target)])
    assert result.exit_code == 2
    assert "folder" in _one_error_line(result.stderr)


@pytest.mark.parametrize("command", ["fixtures", "demo"])
def test_output_folder_that_is_a_file_is_refused(command: str, tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("not a folder")
    result = runner.invoke(app, [command, "--out", str(target)])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"scot: error: --out {target}: is a file; give a folder (it is created when missing)"
    )


# Row 5: binary output to a terminal is refused before any work.

STDOUT_COMMANDS = [
    ["forecast", MISSING, "-H", "7"],
    ["forecast", "evaluate", MISSING, "-H", "7"],
    ["plan-buy", MISSING, "--items", MISSING, "--inventory", MISSING],
    [
        "place",
        MISSING,
        "--items",
        MISSING,
        "--inventory",
        MISSING,
        "--nodes",
        MISSING,
        "--lanes",
        MISSING,
    ],
    ["promise", MISSING, "--inventory", MISSING, "--nodes", MISSING, "--lanes", MISSING],
    ["route", MISSING, "--inventory", MISSING, "--nodes", MISSING, "--lanes", MISSING],
    ["route", "last-mile", MISSING, "--nodes", MISSING],
    ["explain", MISSING, MISSING, "-o", "-"],
    ["sql", f"select * from '{MISSING}'", "-f", "parquet"],
]


@pytest.mark.parametrize("args", STDOUT_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_binary_to_terminal_is_refused_before_any_work(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scot_cli.io, "stdout_is_terminal", lambda: True)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr == TERMINAL


# Row 6: temporary files never match *.parquet; stale ones are cleaned; signals remove them.

TEMP = re.compile(r"^\.(?P<stem>.+)\.[0-9a-f]{6}-(?P<pid>\d+)\.[^.]+\.scot-tmp$")


def test_atomic_write_temporary_is_not_parquet_and_goes(tmp_path: Path) -> None:
    seen: list[str] = []

    def write(f: Any) -> None:
        seen.extend(p.name for p in tmp_path.iterdir())
        f.write(b"data")

    scot_cli.io.atomic_write(tmp_path / "out.parquet", write)
    assert len(seen) == 1
    m = TEMP.match(seen[0])
    assert m is not None and m["stem"] == "out.parquet" and int(m["pid"]) == os.getpid()
    assert not seen[0].endswith(".parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_spill_file_is_not_parquet_and_goes(tmp_path: Path) -> None:
    with scot_cli.io.SpillFile(tmp_path) as spill:
        spill.put(pl.DataFrame({"x": [1, 2]}))
        names = [p.name for p in tmp_path.iterdir()]
        assert len(names) == 1 and TEMP.match(names[0]) and not names[0].endswith(".parquet")
        assert [f["x"].to_list() for f in spill.frames()] == [[1, 2]]
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1, check=True
    )
    return int(proc.stdout)


def test_later_run_removes_stale_temporaries_of_dead_processes(tmp_path: Path) -> None:
    host = scot_cli.io.host_tag()
    other = "000000" if host != "000000" else "111111"
    stale = tmp_path / f".x.parquet.{host}-{_dead_pid()}.abcd1234.scot-tmp"
    live = tmp_path / f".y.parquet.{host}-{os.getppid()}.abcd1234.scot-tmp"
    foreign = tmp_path / f".z.parquet.{other}-{_dead_pid()}.abcd1234.scot-tmp"
    for p in (stale, live, foreign):
        p.write_bytes(b"")
    out = tmp_path / "one.parquet"
    result = runner.invoke(app, ["sql", "select 1 as x", "-f", "parquet", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert not stale.exists()
    assert live.exists() and foreign.exists()  # a live writer's, another machine's


CHILD = textwrap.dedent(
    """
    import sys, time
    import polars as pl
    import scot_cli.io as io

    def slow_write(*args, **kwargs):
        sink = args[1]
        sink.write(b"PAR1 half written")
        sink.flush()
        print("writing", file=sys.stderr, flush=True)
        time.sleep(120)

    def slow_forecast(*args, **kwargs):
        kwargs["spill"].put(pl.DataFrame({"x": [1.0]}))
        print("writing", file=sys.stderr, flush=True)
        time.sleep(120)
        yield from ()

    io.write_parquet = slow_write
    import scot_cli.forecast.partition as partition
    partition.forecast_partitions = slow_forecast
    from scot_cli.commands.main import main
    sys.argv = ["scot", *sys.argv[1:]]
    main()
    """
)


def _start_blocked(args: list[str]) -> subprocess.Popen[bytes]:
    """The real entry point, blocked half-way through writing its first table."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if b"writing" in line or not line:
            break
    assert proc.poll() is None, "the child ended before writing"
    return proc


def _previous_output(folder: Path) -> bytes:
    folder.mkdir(exist_ok=True)
    pl.DataFrame({"sku": ["A"], "units": [1.0]}).write_parquet(folder / "sales.parquet")
    return (folder / "sales.parquet").read_bytes()


def _count_parquet_rows(folder: Path) -> int:
    query = f"select count(*) as n from '{folder}/*.parquet'"
    result = runner.invoke(app, ["sql", query, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    return int(result.stdout.splitlines()[1])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_write_removes_the_temporary(sig: int, tmp_path: Path) -> None:
    out = tmp_path / "f"
    before = _previous_output(out)
    proc = _start_blocked(["fixtures", "--out", str(out), "--skus", "4", "--days", "28"])
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == -sig
    assert (out / "sales.parquet").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["sales.parquet"]


def test_sigterm_during_forecast_removes_the_spill(small_dir: Path, tmp_path: Path) -> None:
    proc = _start_blocked(
        [
            "forecast",
            str(small_dir / "sales.parquet"),
            "-H",
            "7",
            "-o",
            str(tmp_path / "fc.parquet"),
        ]
    )
    assert any(TEMP.match(p.name) for p in tmp_path.iterdir())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_kill_9_keeps_previous_output_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "f"
    before = _previous_output(out)
    proc = _start_blocked(["fixtures", "--out", str(out), "--skus", "4", "--days", "28"])
    proc.kill()
    proc.wait(timeout=60)
    assert (out / "sales.parquet").read_bytes() == before
    left = [p.name for p in out.iterdir() if p.name != "sales.parquet"]
    assert len(left) == 1 and TEMP.match(left[0])
    assert _count_parquet_rows(out) == 1  # the half-written temporary is not globbed
    result = runner.invoke(
        app, ["sql", "select 2 as x", "-f", "parquet", "-o", str(out / "y.parquet")]
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["sales.parquet", "y.parquet"]


# Row 11: explain on damaged provenance or a mismatched input file: exit 3, one line.


@pytest.fixture(scope="module")
def policy_run(tmp_path_factory: pytest.TempPathFactory, small_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("explain")
    fc, policy = folder / "fc.parquet", folder / "policy.parquet"
    d = str(small_dir)
    for args in (
        ["forecast", f"{d}/sales.parquet", "-H", "14", "--model", "seasonal_naive", "-o", str(fc)],
        [
            "plan-buy",
            str(fc),
            "--items",
            f"{d}/items.parquet",
            "--inventory",
            f"{d}/inventory.parquet",
            "-o",
            str(folder / "orders.parquet"),
            "--policy-out",
            str(policy),
        ],
    ):
        result = runner.invoke(app, ["--quiet", *args])
        assert result.exit_code == 0, result.stderr
    return policy


def _with_provenance(src: Path, dst: Path, raw: bytes) -> Path:
    table = pq.read_table(src)
    meta = dict(table.schema.metadata or {})
    meta[b"scot"] = raw
    pq.write_table(table.replace_schema_metadata(meta), dst)
    return dst


def _edited(src: Path, dst: Path, **changes: Any) -> Path:
    prov = json.loads(pq.read_schema(src).metadata[b"scot"])
    for key, value in changes.items():
        if key == "params" and isinstance(value, dict):
            prov["params"].update(value)
        else:
            prov[key] = value
    return _with_provenance(src, dst, json.dumps(prov).encode())


def _explain(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["explain", *args])
    return result.exit_code, result.stderr


def test_explain_corrupt_provenance_json(policy_run: Path, tmp_path: Path) -> None:
    bad = _with_provenance(policy_run, tmp_path / "bad.parquet", b'{"command": "plan-bu')
    for args in ([str(policy_run), str(bad)], [str(bad), "--sku", "X"]):
        code, err = _explain(*args)
        assert code == 3
        assert _one_error_line(err).startswith(
            f"scot: error: {bad}: its scot provenance (Parquet metadata key 'scot') is not "
            "valid JSON ("
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"params": {"review_days": -3}}, "review_days: must be positive, got -3"),
        ({"params": {"service_level": "abc"}}, "service_level='abc': expected float"),
        ({"params": {"policy": "magic"}}, "policy: unknown value 'magic' (choose from"),
        ({"params": "x"}, "provenance 'params' is not an object"),
        ({"inputs": "x"}, "provenance 'inputs' is not a list"),
        ({"inputs": [{"role": 1}]}, "provenance 'inputs' is not a list"),
    ],
    ids=["range", "type", "choice", "params", "inputs", "input-item"],
)
def test_explain_bad_recorded_parameters(
    policy_run: Path, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    bad = _edited(policy_run, tmp_path / "bad.parquet", **change)
    code, err = _explain(str(policy_run), str(bad))
    assert code == 3
    line = _one_error_line(err)
    assert line.startswith(f"scot: error: {bad}: ")
    assert message in line


def test_explain_after_input_lacking_a_column(
    policy_run: Path, small_dir: Path, tmp_path: Path
) -> None:
    items = pl.read_parquet(small_dir / "items.parquet")
    optional = next(c for c in ("brand", "launch_date", "service_level") if c in items.columns)
    lacking = tmp_path / "items.parquet"
    items.drop(optional).write_parquet(lacking)
    code, err = _explain(str(policy_run), str(policy_run), "--after-input", f"items={lacking}")
    assert code == 3
    assert _one_error_line(err).startswith(
        f"scot: error: {lacking}: items lacks column '{optional}' that "
    )


def test_explain_after_input_lacking_a_required_column(
    policy_run: Path, small_dir: Path, tmp_path: Path
) -> None:
    lacking = tmp_path / "items.parquet"
    pl.read_parquet(small_dir / "items.parquet").drop("unit_cost").write_parquet(lacking)
    code, err = _explain(str(policy_run), str(policy_run), "--after-input", f"items={lacking}")
    assert code == 3
    assert "missing required column 'unit_cost'" in _one_error_line(err)


def test_inspect_shows_a_file_with_corrupt_provenance(policy_run: Path, tmp_path: Path) -> None:
    bad = _with_provenance(policy_run, tmp_path / "bad.parquet", b"[1, 2")
    result = runner.invoke(app, ["inspect", str(bad)])
    assert result.exit_code == 0
    assert "rows" in result.stdout
    assert result.stderr.startswith(f"scot: warning: {bad}: its scot provenance")


# Row 13: every numeric option is range-checked before any work.


def test_mip_max_options_negative_is_a_usage_error() -> None:
    result = runner.invoke(
        app,
        [
            *["route", MISSING, "--inventory", MISSING, "--nodes", MISSING, "--lanes", MISSING],
            *["--mip-max-options", "-1"],
        ],
    )
    assert result.exit_code == 2
    assert "'--mip-max-options'" in _one_error_line(result.stderr)


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
@pytest.mark.parametrize(("args", "flag"), _numeric_options(), ids=str)
def test_every_numeric_option_refuses_nonsense(args: list[str], flag: str, value: str) -> None:
    result = runner.invoke(app, [*args, flag, value])
    assert result.exit_code == 2, result.stderr
    line = _one_error_line(result.stderr)
    short = [o for o in (flag, flag.lstrip("-")) if o in line]
    assert short or "must be positive" in line, line


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_seed_outside_32_bits_is_refused(seed: str) -> None:
    result = runner.invoke(app, ["forecast", MISSING, "-H", "7", "--seed", seed])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"scot: error: --seed: expected an integer from 0 to {2**32 - 1}, got {seed}"
    )


# Row 14: a closed stdout (``| head``) ends quietly with exit 0.


def _closed_stdout(*args: str) -> tuple[int, bytes]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    proc = subprocess.Popen(
        [*scot_exe(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first write, as after `| head -0`
    err = proc.stderr.read()
    return proc.wait(timeout=120), err


@pytest.mark.parametrize(
    "args",
    [["--help"], ["forecast", "--help"], ["route", "last-mile", "--help"], ["--version"]],
    ids=" ".join,
)
def test_help_into_closed_pipe(args: list[str]) -> None:
    assert _closed_stdout(*args) == (0, b"")


def test_inspect_into_closed_pipe(small_dir: Path) -> None:
    assert _closed_stdout("inspect", str(small_dir / "sales.parquet")) == (0, b"")


def test_sql_table_into_closed_pipe() -> None:
    assert _closed_stdout("sql", "select 1 as x", "-f", "table") == (0, b"")


def test_demo_into_closed_pipe(small_dir: Path, tmp_path: Path) -> None:
    code, err = _closed_stdout(
        "--quiet", "demo", "--fixtures", str(small_dir), "--out", str(tmp_path)
    )
    assert (code, err) == (0, b"")


def test_head_reads_a_line_and_the_run_still_succeeds(small_dir: Path) -> None:
    shell = (
        f"set -o pipefail; {' '.join(scot_exe())} inspect {small_dir / 'sales.parquet'} | head -1"
    )
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert proc.stdout.count(b"\n") == 1


# Row 15: a missing or mistyped option is one line naming the option and the fix.


def test_missing_required_option_names_it_and_the_fix() -> None:
    result = runner.invoke(app, ["forecast", MISSING])
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: forecast: missing option --horizon / -H (Periods ahead to forecast "
        "(>= 1)); add it (see 'scot forecast --help')\n"
    )


def test_bad_value_names_the_option() -> None:
    result = runner.invoke(app, ["explain", "--top", "-1", MISSING, MISSING])
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: explain: Invalid value for '--top': Input should be greater than or "
        "equal to 1; see 'scot explain --help'\n"
    )


def test_bad_choice_lists_the_choices() -> None:
    result = runner.invoke(app, ["explain", "--by", "bogus", MISSING, MISSING])
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: --by: unknown value 'bogus' (choose from sku, category, node, order)\n"
    )


def test_unknown_command_is_one_line() -> None:
    result = runner.invoke(app, ["forcast"])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr).startswith("scot: error: No such command 'forcast'")


@pytest.mark.parametrize(("path", "cmd"), list(_leaves()), ids=str)
def test_every_command_usage_error_is_one_line(path: list[str], cmd: Any) -> None:
    result = runner.invoke(app, [*path, *_required(cmd), "--no-such-option"])
    assert result.exit_code == 2
    line = _one_error_line(result.stderr)
    assert "No such option: --no-such-option" in line
    assert line.endswith(f"see 'scot {' '.join(path)} --help'")
    assert " run " not in line and "run'" not in line  # the hidden default subcommand


def test_missing_argument_in_a_real_process() -> None:
    res = run_scot("route", "last-mile")
    assert res.returncode == 2
    assert res.stderr.decode() == (
        "scot: error: route last-mile: missing argument STOPS (Stops to deliver (Parquet), "
        "or - ); add it (see 'scot route last-mile --help')\n"
    )


@pytest.mark.parametrize("skus", ["2", "3"])
def test_smallest_fixture_sets_are_valid(skus: str, tmp_path: Path) -> None:
    """--skus accepts 2; two or three skus made an empty sales table or too few skus for
    an order's lines (exit 1)."""
    out = tmp_path / "f"
    result = runner.invoke(app, ["fixtures", "--out", str(out), "--skus", skus, "--days", "28"])
    assert result.exit_code == 0, result.stderr
    for table in ("sales", "orders", "items"):
        check = runner.invoke(app, ["check", table, str(out / f"{table}.parquet")])
        assert check.exit_code == 0, check.stderr
    assert pl.read_parquet(out / "sales.parquet").height > 0


def test_output_over_an_input_is_refused_before_any_work(small_dir: Path, tmp_path: Path) -> None:
    sales = tmp_path / "sales.parquet"
    sales.write_bytes((small_dir / "sales.parquet").read_bytes())
    before = sales.read_bytes()
    args = ["plan-buy", str(sales), "--items", MISSING, "--inventory", MISSING, "-o", str(sales)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"scot: error: --output {sales}: is an input of this run (forecast); write the "
        "output elsewhere"
    )
    assert sales.read_bytes() == before


def test_two_outputs_to_one_file_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    args = ["plan-buy", MISSING, "--items", MISSING, "--inventory", MISSING]
    result = runner.invoke(app, [*args, "-o", str(out), "--policy-out", str(out)])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"scot: error: --policy-out {out}: also given to --output; write each output to its "
        "own file"
    )


def test_disk_full_during_a_write_is_one_line_and_keeps_the_previous_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"previous")

    def full(f: Any) -> None:
        f.write(b"PAR1 part")
        raise OSError(28, "No space left on device")

    with pytest.raises(scot_cli.errors.ScotError) as info:
        scot_cli.io.atomic_write(target, full)
    assert info.value.exit_code == 1
    assert info.value.message == (
        f"{target}: cannot write (No space left on device); the previous file is unchanged; "
        "free space or write elsewhere"
    )
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_stdout_on_a_full_disk_is_one_line() -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [*scot_exe(), "sql", "select 1 as x", "-f", "parquet"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        "scot: error: output: cannot write (No space left on device); free space or write "
        "elsewhere\n"
    )


@pytest.mark.parametrize("quoted", ["sales.parquet", "*.parquet"])
def test_sql_output_over_a_file_the_query_reads_is_refused(
    quoted: str, small_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sales = tmp_path / "sales.parquet"
    sales.write_bytes((small_dir / "sales.parquet").read_bytes())
    before = sales.read_bytes()
    query = f"select * from '{quoted}' limit 5"
    result = runner.invoke(app, ["sql", query, "-f", "parquet", "-o", "sales.parquet"])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"scot: error: -o sales.parquet: is an input of this run (the query reads "
        f"'{quoted}'); write the output elsewhere"
    )
    assert sales.read_bytes() == before


def test_signal_inside_a_native_call_still_ends_by_the_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A handler's exception raised inside a numba function comes back as SystemError
    ("returned a result with an exception set"); it is a signal, not an internal error."""
    from scot_cli.commands.main import Interrupted

    def native(query: str, **_options: Any) -> None:
        try:
            raise Interrupted(signal.SIGTERM)
        except Interrupted as exc:
            raise SystemError("fit_panel returned a result with an exception set") from exc

    monkeypatch.setattr(scot_cli.io, "sql_query", native)
    with pytest.raises(Interrupted) as info:
        runner.invoke(app, ["sql", "select 1", "-f", "csv"])
    assert info.value.signum == signal.SIGTERM


@pytest.mark.parametrize("end", ["9999-12-01", "0001-12-31", "1900-06-01", "2199-12-01"])
def test_fixtures_end_date_is_range_checked(end: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["fixtures", "--out", str(tmp_path / "f"), "--end", end])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        "scot: error: --end: expected a date from 1911-01-01 to 2199-06-30 (the history, "
        f"events and orders around it must be real dates), got {end}"
    )
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize("end", ["1911-01-01", "2199-06-30"])
def test_fixtures_end_date_extremes_work(end: str, tmp_path: Path) -> None:
    args = ["fixtures", "--out", str(tmp_path), "--skus", "4", "--days", "3660", "--end", end]
    result = runner.invoke(app, [*args, "--orders", "5"])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("query", "fmt", "expected"),
    [
        ("select interval 1 day as i", "csv", "i\n1 day\n"),
        ("select [1, 2] as l, {'a': 1} as s", "csv", "l,s\n\"[1, 2]\",{'a': 1}\n"),
        ("select '\\xAA'::BLOB as b", "json", '{"b":"\\\\xAA"}\n'),
        ("select [1, 2] as l", "json", '{"l":[1,2]}\n'),
    ],
)
def test_sql_types_polars_cannot_hold_come_back_as_text(
    query: str, fmt: str, expected: str
) -> None:
    result = runner.invoke(app, ["sql", query, "-f", fmt])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected


def test_sql_interval_to_parquet(tmp_path: Path) -> None:
    out = tmp_path / "q.parquet"
    result = runner.invoke(
        app, ["sql", "select interval 1 day as i", "-f", "parquet", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(out)["i"].to_list() == ["1 day"]


@pytest.mark.parametrize("query", ["", "  ;"])
def test_sql_empty_query_is_a_usage_error(query: str) -> None:
    result = runner.invoke(app, ["sql", query, "-f", "csv"])
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: sql: the query gives no result (empty, or not a SELECT); give a SELECT\n"
    )


def test_demo_checks_its_fixtures_folder_first(small_dir: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    for f in small_dir.glob("*.parquet"):
        if f.name != "lanes.parquet":
            (partial / f.name).write_bytes(f.read_bytes())
    result = runner.invoke(app, ["demo", "--fixtures", str(partial), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert _one_error_line(result.stderr) == (
        f"scot: error: --fixtures {partial}: has no lanes.parquet; create the tables with "
        f"scot fixtures --out {partial}"
    )
    assert not (tmp_path / "o").exists()


def test_demo_step_error_is_one_line_with_the_step_exit_code(
    small_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in small_dir.glob("*.parquet"):
        (bad / f.name).write_bytes(f.read_bytes())
    pl.read_parquet(small_dir / "sales.parquet").drop("units").write_parquet(bad / "sales.parquet")
    result = runner.invoke(app, ["demo", "--fixtures", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert _one_error_line(result.stderr).startswith(
        f"scot: error: demo step 'scot forecast': {bad / 'sales.parquet'}: missing required "
        "column 'units'"
    )


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01"])
def test_plan_buy_as_of_is_range_checked_first(as_of: str) -> None:
    args = ["plan-buy", MISSING, "--items", MISSING, "--inventory", MISSING, "--as-of", as_of]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"scot: error: --as-of: expected a date from 1900-01-01 to 2198-12-31, got {as_of}"
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--speed", "1e-300"),
        ("--shift", "1e300"),
        ("--capacity", "1e300"),
        ("--time-limit", "1e300"),
    ],
)
def test_last_mile_extremes_are_refused_first(option: str, value: str) -> None:
    """A speed near zero made NaN durations; a huge shift or capacity overflowed the
    integer model; a huge time limit searched without end."""
    args = ["route", "last-mile", MISSING, "--nodes", MISSING, option, value]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert option in _one_error_line(result.stderr)


def test_route_time_limit_is_at_most_a_day() -> None:
    args = ["route", MISSING, "--inventory", MISSING, "--nodes", MISSING, "--lanes", MISSING]
    result = runner.invoke(app, [*args, "--time-limit", "86401"])
    assert result.exit_code == 2
    assert "'--time-limit'" in _one_error_line(result.stderr)


@pytest.mark.parametrize(
    "args",
    [["explain", MISSING, MISSING, "--top"], ["inspect", MISSING, "--head"]],
    ids=["explain", "inspect"],
)
def test_integers_beyond_64_bits_are_refused(args: list[str]) -> None:
    result = runner.invoke(app, [*args, str(10**21)])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"scot: error: {args[-1]}: expected an integer of at most 2^63-1, got {10**21}"
    )


def test_an_unexpected_error_with_line_breaks_is_still_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(query: str, **_options: Any) -> None:
        raise RuntimeError("datatype map cannot be written\n\nConsider using JSON")

    monkeypatch.setattr(scot_cli.io, "sql_query", broken)
    result = runner.invoke(app, ["sql", "select 1", "-f", "csv"])
    assert result.exit_code == 1
    assert result.stderr == (
        "scot: internal error: RuntimeError: datatype map cannot be written Consider using "
        "JSON (rerun with --debug for the traceback)\n"
    )


def test_library_warnings_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    real = scot_cli.io.sql_query

    def noisy(query: str, **options: Any) -> pl.DataFrame:
        warnings.warn("overflow encountered in multiply", RuntimeWarning, stacklevel=1)
        return real(query, **options)

    monkeypatch.setattr(scot_cli.io, "sql_query", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        result = runner.invoke(app, ["sql", "select 1 as x", "-f", "csv"])
    assert result.exit_code == 0
    assert result.stderr == "scot: warning: RuntimeWarning: overflow encountered in multiply\n"
    assert result.stdout == "x\n1\n"


def test_streamed_forecast_refuses_a_date_typo_before_any_warning(
    small_dir: Path, tmp_path: Path
) -> None:
    """A Parquet sales file is read in partitions; its extreme dates are checked when it is
    opened, before the events are compared with the history (which warned first)."""
    sales = pl.read_parquet(small_dir / "sales.parquet")
    typo = sales.with_columns(pl.lit(dt.date(6958, 5, 26)).alias("date"))
    path = tmp_path / "sales.parquet"
    typo.write_parquet(path)
    args = ["forecast", str(path), "--events", str(small_dir / "events.parquet"), "-H", "7"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "fc.parquet")])
    assert result.exit_code == 3
    line = _one_error_line(result.stderr)
    assert line.startswith(f"scot: error: {path}: column date ")
    assert line.endswith(
        "6958-05-26 is outside the accepted dates 1900-01-01 .. 2199-12-31; fix the date"
    )


@pytest.mark.parametrize(
    ("command", "params", "message"),
    [
        ("route", {"time_limit": -1}, "time_limit: must be positive, got -1"),
        ("route", {"method": "x"}, "method: unknown value 'x' (choose from auto, mip, lp-round"),
        ("route", {"hold": "yes"}, "hold='yes': expected bool"),
        ("route", {"seed": 1.5}, "seed=1.5: expected int"),
        ("promise", {"mode": "x"}, "mode: unknown value 'x' (choose from snapshot, commit)"),
        ("promise", {"confidence": 1}, "confidence: must be strictly between 0 and 1, got 1"),
        ("place", {"speed_target": 5}, "speed_target=5: expected DAYS:SHARE such as 1:0.8"),
        ("place", {"period_days": 1.5}, "period_days=1.5: expected int"),
        ("place", {"solver": "x"}, "solver: unknown value 'x' (choose from highs, clarabel, scs)"),
        ("plan-buy", {"review_days": float("nan")}, "review_days=nan: expected float"),
        ("plan-buy", {"as_of": "9999-12-31"}, "as_of=9999-12-31: outside 1900-01-01 .."),
    ],
)
def test_recorded_parameters_are_checked_like_options(
    command: str, params: dict[str, Any], message: str
) -> None:
    from scot_cli.explain.provenance import check_params

    with pytest.raises(scot_cli.errors.InputDataError) as info:
        check_params(command, params, source="run.parquet")
    assert info.value.message.startswith(
        f"run.parquet: recorded parameters are not valid ({message}"
    )


@pytest.mark.parametrize(
    ("command", "params"),
    [
        ("route", {}),
        ("place", {"speed_target": "1:0.8", "period_days": 7, "transfer_cost": 1}),
        ("plan-buy", {"as_of": "2026-01-01", "budget": None, "review_days": 7}),
        ("promise", {"confidence": 0.9, "mode": "commit", "split": "avoid"}),
    ],
)
def test_recorded_parameters_of_real_runs_pass(command: str, params: dict[str, Any]) -> None:
    from scot_cli.explain.provenance import check_params

    check_params(command, params, source="run.parquet")


def test_out_of_memory_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def huge(query: str, **_options: Any) -> None:
        raise MemoryError

    monkeypatch.setattr(scot_cli.io, "sql_query", huge)
    result = runner.invoke(app, ["sql", "select 1", "-f", "csv"])
    assert result.exit_code == 1
    assert result.stderr == (
        "scot: error: out of memory; split the input (fewer skus or dates), lower the options "
        "that size the work (--batch-size, --horizon), or use a machine with more memory\n"
    )


def test_old_versions_day_old_temporaries_are_removed(tmp_path: Path) -> None:
    """Versions before the .scot-tmp names left .scot-spill.XXXXXXXX.parquet (globbed as
    output) and .NAME.parquet.XXXXXXXX.tmp; without a process id only day-old ones go."""
    old_spill = tmp_path / ".scot-spill.ab12cd34.parquet"
    old_tmp = tmp_path / ".out.parquet.zz9yy8xx.tmp"
    recent = tmp_path / ".scot-spill.qwertyui.parquet"
    for p in (old_spill, old_tmp, recent):
        p.write_bytes(b"")
    day_ago = time.time() - 2 * 86_400
    for p in (old_spill, old_tmp):
        os.utime(p, (day_ago, day_ago))
    scot_cli.io.atomic_write(tmp_path / "new.parquet", lambda f: f.write(b"x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [recent.name, "new.parquet"]


def test_signal_a_library_turned_into_its_own_error_still_ends_by_the_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DuckDB answers the handler's exception with RuntimeError('Query interrupted')."""
    import scot_cli.commands.main as entry

    monkeypatch.setattr(entry, "RECEIVED", [])

    def interrupted(query: str, **_options: Any) -> None:
        entry.RECEIVED.append(signal.SIGTERM)
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(scot_cli.io, "sql_query", interrupted)
    with pytest.raises(entry.Interrupted) as info:
        runner.invoke(app, ["sql", "select 1", "-f", "csv"])
    assert info.value.signum == signal.SIGTERM
