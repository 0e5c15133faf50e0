"""Long fuzz profile (``make fuzz``): 1,000+ cases over every command, figures for the docs.

Environment: ``SCOT_FUZZ_CASES`` (default 1000), ``SCOT_FUZZ_SEED`` (default 0),
``SCOT_FUZZ_JOBS`` (default 2), ``SCOT_FUZZ_REPORT`` (write the benchmarks section there),
``SCOT_FUZZ_FAILURES`` (write the failing cases there, one reproducer a line),
``SCOT_FUZZ_KEEP`` (copy each failing case's folder there).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import pytest
from fuzz.fuzzkit import (
    build_base,
    draw_cases,
    dump,
    failure_text,
    git_commit,
    load_average,
    machine,
    report_markdown,
    run_cases,
    specs,
    summary_line,
)

TIMEOUT = 60.0


@pytest.mark.fuzz
def test_fuzz_long_profile(tmp_path: Path) -> None:
    n = int(os.environ.get("SCOT_FUZZ_CASES", "1000"))
    seed = int(os.environ.get("SCOT_FUZZ_SEED", "0"))
    jobs = int(os.environ.get("SCOT_FUZZ_JOBS", "2"))
    base = build_base(tmp_path / "base")
    cases = draw_cases(n, seed=seed)
    assert {c.spec for c in cases} >= {s.name for s in specs() if s.family != "check"}
    load_before, start = load_average(), time.perf_counter()
    outcomes = run_cases(cases, base, tmp_path, timeout=TIMEOUT, jobs=jobs)
    seconds, load_after = time.perf_counter() - start, load_average()
    line = summary_line(outcomes)
    print("", *(failure_text(o) for o in outcomes if o.failures), line, sep="\n")
    if report := os.environ.get("SCOT_FUZZ_REPORT"):
        command = "make fuzz" if os.environ.get("MAKELEVEL") else shlex.join(sys.argv)
        Path(report).write_text(
            report_markdown(
                outcomes,
                command=f"{command} (SCOT_FUZZ_CASES={n}, SCOT_FUZZ_SEED={seed})",
                seconds=seconds,
                load=(load_before, load_after),
                commit=git_commit(),
                machine=machine(),
                timeout=TIMEOUT,
            )
        )
    if failures_path := os.environ.get("SCOT_FUZZ_FAILURES"):
        dump(outcomes, Path(failures_path))
    assert len(outcomes) == n
    assert [failure_text(o) for o in outcomes if o.failures] == [], line
