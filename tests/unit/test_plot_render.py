"""scot_cli.plot.plot draws every kind from small frames built here: PNG header and size,
SVG that parses, HTML with no link out; same inputs, same bytes."""

from __future__ import annotations

import datetime as dt
import re
import struct
import xml.etree.ElementTree as ET

import numpy as np
import polars as pl
import pytest

from scot_cli.plot import KINDS, plot
from scot_cli.plot.render import Chart, html_page

START = dt.date(2026, 3, 1)


def sample(kind: str) -> list[pl.DataFrame]:
    """Small tables of one kind's inputs, shaped like the scot outputs they stand for."""
    rng = np.random.default_rng(7)
    if kind == "forecast":
        days = [START + dt.timedelta(days=i) for i in range(14)]
        fc = pl.DataFrame(
            {
                "sku": ["A"] * 14 + ["B"] * 14,
                "location": "R1",
                "date": days * 2,
                "horizon": list(range(1, 15)) * 2,
                "p50": rng.uniform(5, 10, 28),
            }
        ).with_columns((pl.col("p50") * 0.6).alias("p10"), (pl.col("p50") * 1.5).alias("p90"))
        past = [START - dt.timedelta(days=i) for i in range(1, 61)]
        sales = pl.DataFrame(
            {
                "sku": ["A"] * 60 + ["B"] * 60,
                "location": "R1",
                "date": past * 2,
                "units": rng.poisson(7, 120).astype(float),
                "event": ([None] * 58 + ["promo", "promo"]) * 2,
            }
        )
        events = pl.DataFrame(
            {
                "event": ["promo"],
                "start": [START + dt.timedelta(days=5)],
                "end": [START + dt.timedelta(days=6)],
            }
        )
        return [fc, sales, events]
    if kind == "placement":
        placement = pl.DataFrame(
            {
                "sku": ["a", "a", "b", "b"],
                "node": ["F1", "F2", "F1", "F2"],
                "current_units": [10.0, 0.0, 5.0, 5.0],
                "target_units": [5.0, 5.0, 2.0, 8.0],
            }
        )
        coverage = pl.DataFrame(
            {
                "region": ["ALL", "ALL", "R1", "R1", "R2", "R2"],
                "days": [1, 2] * 3,
                "share_before": [0.3, 0.6, 0.5, 0.9, 0.1, 0.3],
                "share_after": [0.4, 0.8, 0.6, 1.0, 0.2, 0.6],
            }
        )
        nodes = pl.DataFrame(
            {
                "node": ["F1", "F2", "R1", "R2"],
                "kind": ["fc", "fc", "region", "region"],
                "lat": [40.0, 34.0, 41.0, 33.0],
                "lon": [-74.0, -118.0, -75.0, -117.0],
            }
        )
        return [placement, coverage, nodes]
    if kind == "promise":
        n = 40
        return [
            pl.DataFrame(
                {
                    "order_id": [f"o{i}" for i in range(n)],
                    "destination": rng.choice(["R1", "R2", "R3"], n),
                    "promise_days": rng.integers(1, 8, n),
                    "on_time_prob": rng.uniform(0.8, 1.0, n),
                }
            )
        ]
    if kind == "route":
        trucks = pl.DataFrame(
            {
                "truck_id": [f"t{i}" for i in range(6)],
                "origin": ["F1", "F1", "F1", "F2", "F2", "F2"],
                "destination": ["D1", "D1", "D2", "D1", "D2", "D2"],
                "fill": [0.2, 0.7, 0.9, 0.4, 0.55, 1.0],
            }
        )
        routes = pl.DataFrame(
            {
                "stop_id": [f"s{i}" for i in range(8)],
                "station": "DS",
                "vehicle": ["v1"] * 4 + ["v2"] * 3 + [None],
                "sequence": [1, 2, 3, 4, 1, 2, 3, None],
            }
        )
        stops = pl.DataFrame(
            {
                "stop_id": [f"s{i}" for i in range(8)],
                "station": "DS",
                "lat": 30 + rng.normal(0, 0.05, 8),
                "lon": -95 + rng.normal(0, 0.05, 8),
            }
        )
        return [trucks, routes, stops]
    if kind == "simulate":
        days = [START + dt.timedelta(days=i) for i in range(5)]
        keys = [(p, r, d) for p in ("scot", "baseline") for r in (0, 1) for d in days]
        demand = rng.uniform(50, 100, len(keys))
        daily = pl.DataFrame(
            {
                "scenario": "base",
                "policy": [k[0] for k in keys],
                "replication": [k[1] for k in keys],
                "date": [k[2] for k in keys],
                "node": "R1",
                "demand": demand,
                "served": demand * 0.9,
                "served_1day": demand * 0.4,
                "promises_kept": demand * 0.85,
                "on_hand": None,
                "in_stock_rate": 0.9,
            }
        )
        fcs = daily.with_columns(
            pl.lit("F1").alias("node"),
            pl.lit(None, pl.Float64).alias("demand"),
            pl.lit(None, pl.Float64).alias("served"),
            pl.lit(None, pl.Float64).alias("in_stock_rate"),
            pl.Series("on_hand", rng.uniform(100, 200, len(keys))),
        )
        summary = pl.DataFrame(
            {
                "scenario": "base",
                "policy": ["scot", "scot", "baseline", "baseline"],
                "kpi": ["in_stock_rate", "share_1day"] * 2,
                "mean": [0.9, 0.4, 0.85, 0.35],
                "ci_low": [0.88, 0.35, 0.8, 0.3],
                "ci_high": [0.92, 0.45, 0.9, 0.4],
            }
        )
        return [pl.concat([daily, fcs], how="diagonal_relaxed"), summary]
    assert kind == "explain"
    return [
        pl.DataFrame(
            {
                "subject": "(all)",
                "metric": "qty",
                "before": 1000.0,
                "after": 1150.0,
                "delta": 150.0,
                "driver": ["lead time", "forecast level", "forecast spread"],
                "contribution": [220.0, -60.0, -10.0],
            }
        )
    ]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (PNG spec, section 11.2.2)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


#: A URL that makes a browser fetch something: src/href/url() to anything but a data: URI.
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*(?!["']?(?:data:|#))|url\(\s*(?!["']?(?:data:|#))|@import""", re.I
)


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!doctype html>")
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_draws_an_svg_that_parses(kind: str) -> None:
    result = plot(sample(kind), kind=kind, format="svg")
    root = ET.fromstring(result.image)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 10
    assert result.summary.kind == kind
    assert result.summary.lines()[0].startswith(f"plot {kind} (svg)")


def test_png_has_its_header_and_a_picture_sized_body() -> None:
    image = plot(sample("explain"), format="png").image
    width, height = png_size(image)
    assert width >= 500 and height >= 250
    assert len(image) > 5_000


def test_html_is_one_self_contained_page() -> None:
    page = plot(sample("promise"), format="html").image.decode()
    assert_self_contained(page)
    assert page.count('src="data:image/svg+xml;base64,') == 1


def test_the_kind_follows_from_the_first_table() -> None:
    result = plot(sample("promise"), format="svg")
    assert result.summary.kind == "promise"


def test_same_inputs_same_bytes() -> None:
    tables = sample("explain")
    assert plot(tables, format="svg").image == plot(tables, format="svg").image


def test_html_page_escapes_titles_and_captions() -> None:
    page = html_page("a <b>", [Chart("x & y", b"<svg/>", caption="<i>")])
    assert "<b>" not in page and "a &lt;b&gt;" in page
    assert "x &amp; y" in page and "&lt;i&gt;" in page
    assert_self_contained(page)
