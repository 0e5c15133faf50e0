"""The demo's report.html in a real browser: headless Chromium (Debian's ``chromium``)
loads it without a console message, every chart is decoded and drawn (not blank), and a
screenshot shows the page. Skipped, with the reason, where no Chromium is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_scot

#: Chromium's own flags for a closed network and a root user (see Debian's chromium).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)

#: A page that loads the report in a frame and, for every chart image, decodes it, draws
#: it on a white canvas and measures the share of its pixels that are not white.
CHECKER = """<!doctype html><html><body><pre id="out">pending</pre>
<iframe id="f" src="report.html" style="width:1200px;height:900px"></iframe>
<script>
const f = document.getElementById('f');
f.addEventListener('load', async () => {
  const imgs = Array.from(f.contentDocument.querySelectorAll('figure.chart img'));
  const res = [];
  for (const img of imgs) {
    try { await img.decode(); } catch (e) { res.push({error: String(e)}); continue; }
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 235 || d[i+1] < 235 || d[i+2] < 235) ink++;
    res.push({alt: img.alt, width: c.width, height: c.height, ink: ink / (c.width * c.height)});
  }
  document.getElementById('out').textContent = 'CHARTS ' + JSON.stringify(res) + ' END';
});
</script></body></html>
"""


def chromium() -> str:
    """The Chromium executable, or skip the test saying how to get one."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on PATH: install Debian's chromium package (apt-get install chromium)")


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium with a fresh profile; stdout holds what
    ``extra`` asks for (the DOM, a screenshot's note), stderr Chromium's log."""
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console_messages(log: str) -> list[str]:
    """What the page wrote to the console (errors included) in Chromium's log."""
    return re.findall(r"CONSOLE[^\]]*\] (.*)", log)


def chart_checks(report: Path, work: Path) -> list[dict[str, object]]:
    """Each chart of ``report`` as the browser drew it (size and share of inked pixels)."""
    shutil.copy(report, work / "report.html")
    (work / "check.html").write_text(CHECKER)
    done = browse(
        work / "check.html",
        work / "profile-check",
        "--allow-file-access-from-files",
        "--virtual-time-budget=20000",
        "--dump-dom",
    )
    found = re.search(r"CHARTS (.*) END", done.stdout)
    assert found, done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    charts: list[dict[str, object]] = json.loads(found.group(1))
    return charts


def screenshot(report: Path, target: Path, work: Path, *, height: int = 2400) -> bytes:
    """A screenshot of the top ``height`` CSS pixels of the page at half scale."""
    done = browse(
        report,
        work / "profile-shot",
        f"--window-size=1200,{height}",
        "--force-device-scale-factor=0.5",
        f"--screenshot={target}",
    )
    assert target.exists(), done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    return target.read_bytes()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chromium()
    out = tmp_path_factory.mktemp("demo")
    done = run_scot("demo", "--out", str(out))
    assert done.returncode == 0, done.stderr
    report = out / "report.html"
    if not report.exists():  # a demo without the report step: make it as a user would
        made = run_scot("report", str(out))
        assert made.returncode == 0, made.stderr
    return report


@pytest.mark.slow
def test_demo_report_draws_every_chart_in_chromium(demo_report: Path, tmp_path: Path) -> None:
    charts = chart_checks(demo_report, tmp_path)
    assert len(charts) >= 5
    for chart in charts:
        assert "error" not in chart, chart
        assert int(str(chart["width"])) >= 400 and int(str(chart["height"])) >= 200, chart
        # a drawn chart inks a few percent of its area; a blank one none
        assert float(str(chart["ink"])) > 0.02, chart


@pytest.mark.slow
def test_demo_report_screenshot_is_not_blank(demo_report: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    shot = tmp_path / "report.png"
    data = screenshot(demo_report, shot, tmp_path)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 500
    ink = (pixels[..., :3] < 0.92).any(axis=-1).mean()
    assert ink > 0.05


@pytest.mark.slow
def test_the_checks_catch_a_broken_page(tmp_path: Path) -> None:
    """The harness itself: a console error and a chart that cannot be decoded are seen."""
    chromium()
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html><body><script>console.error("boom")</script>'
        '<figure class="chart"><img alt="x" src="data:image/svg+xml;base64,AAAA"></figure>'
        "</body></html>"
    )
    log = browse(bad, tmp_path / "profile", "--dump-dom").stderr
    assert any("boom" in m for m in console_messages(log))
    (tmp_path / "check.html").write_text(CHECKER)
    shutil.copy(bad, tmp_path / "report.html")
    done = browse(
        tmp_path / "check.html",
        tmp_path / "profile2",
        "--allow-file-access-from-files",
        "--virtual-time-budget=10000",
        "--dump-dom",
    )
    found = re.search(r"CHARTS (.*) END", done.stdout)
    assert found
    assert "error" in json.loads(found.group(1))[0]
