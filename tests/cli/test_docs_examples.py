"""Every ```sh example of the docs runs: page by page, blocks in order, on the fixtures.

Each page runs in its own folder holding ``fixtures/`` (a copy of the committed fixtures) and
an empty ``out/``, with the installed ``scot`` first on PATH; a block may use the files the
page's earlier blocks made. Illustrative output belongs in ```text fences, which are not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "commands").glob("*.md")])
FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: Pages whose examples wait on work in flight, with the reason.
BROKEN: dict[str, str] = {}


def sh_blocks(text: str) -> list[str]:
    """The ```sh fenced blocks of a Markdown page, in order."""
    return FENCE.findall(text)


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT / "docs"))


def _params() -> list[object]:
    params: list[object] = []
    for page in PAGES:
        if not sh_blocks(page.read_text()):
            continue
        reason = BROKEN.get(_page_id(page))
        marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
        params.append(pytest.param(page, marks=marks, id=_page_id(page)))
    return params


def test_sh_blocks_are_found_in_order() -> None:
    text = "a\n```sh\none\n```\n```text\nnot run\n```\n```sh\ntwo\nthree\n```\n"
    assert sh_blocks(text) == ["one\n", "two\nthree\n"]


@pytest.mark.slow
@pytest.mark.parametrize("page", _params())
def test_docs_examples_run(page: Path, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    (tmp_path / "out").mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COLUMNS", None)
    for i, block in enumerate(sh_blocks(page.read_text()), 1):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            check=False,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, (
            f"{_page_id(page)} block {i} exited {done.returncode}:\n{block}\n{done.stderr[-2000:]}"
        )
