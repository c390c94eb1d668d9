"""SVG charts: static, self-contained, deterministic, labels escaped and never parsed as math."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from testing.reporting._charts import (
    clean_svg,
    latency_chart,
    recovery_chart,
    resource_chart,
    throughput_chart,
    trend_chart,
)


def _parse(svg: str) -> ET.Element:
    # The fragment drops namespaces for inline HTML use; put them back to parse it as XML.
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_charts_are_clean_inline_svg() -> None:
    charts = [
        latency_chart([("a", 1.0, 2.0, 3.0), ("b", 2.0, 5.0, 9.0)], threshold_ms=4.0),
        throughput_chart([("a", 10.0), ("b", 20.0)]),
        resource_chart([(0.0, 5.0, 100.0), (1.0, 50.0, 120.0)]),
        recovery_chart([("kill", 0.5, True), ("corrupt", 2.0, False)]),
        trend_chart([("r1", 90.0), ("r2", 95.0)], title="Pass rate", unit="%"),
    ]
    for svg in charts:
        assert svg.startswith("<svg ") and svg.endswith("</svg>")
        assert not re.search(r"https?://|xlink:|<script|<metadata|<\?xml|<!DOCTYPE", svg)
        assert 'role="img"' in svg and "aria-label=" in svg
        assert "<text" in svg  # text stays text (selectable, extractable from the PDF)
        _parse(svg)


def test_axis_labels_carry_units() -> None:
    assert "latency (ms)" in latency_chart([("a", 1.0, 2.0, 3.0)])
    assert "throughput (operations/s)" in throughput_chart([("a", 1.0)])
    svg = resource_chart([(0.0, 1.0, 2.0), (1.0, 2.0, 3.0)])
    assert "CPU (%)" in svg and "RSS (MB)" in svg and "elapsed (s)" in svg
    assert "time to recover (s)" in recovery_chart([("x", 1.0, True)])


def test_threshold_is_drawn_and_named() -> None:
    assert "p95 ceiling 150 ms" in latency_chart([("a", 1.0, 2.0, 3.0)], threshold_ms=150.0)
    assert "p95 ceiling" not in latency_chart([("a", 1.0, 2.0, 3.0)])


def test_hostile_labels_are_escaped_and_not_math() -> None:
    svg = throughput_chart([("<script>x</script> $\\frac{1}{0}$", 3.0)])
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert "$\\frac{1}{0}$" in svg  # a dollar sign is a dollar sign, not mathtext
    _parse(svg)


def test_same_data_same_bytes() -> None:
    rows = [("a", 1.0, 2.0, 3.0), ("b", 2.0, 5.0, 9.0)]
    assert latency_chart(rows, threshold_ms=4.0) == latency_chart(rows, threshold_ms=4.0)


def test_clean_svg_strips_prolog_metadata_and_namespaces() -> None:
    raw = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/x.dtd">\n'
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" xmlns="http://www.w3.org/2000/svg" width="1">'
        '<metadata><rdf:RDF xmlns:dc="http://purl.org/dc/elements/1.1/"/></metadata>'
        '<use xlink:href="#m1"/></svg>'
    )
    assert clean_svg(raw) == '<svg width="1"><use href="#m1"/></svg>'


def test_ids_are_scoped_per_chart_and_unreferenced_ids_dropped() -> None:
    raw = '<svg><g id="figure_1"><path id="m1"/><use href="#m1"/><g clip-path="url(#p1)"/><clipPath id="p1"/></g></svg>'
    cleaned = clean_svg(raw)
    assert 'id="figure_1"' not in cleaned
    prefix = cleaned[cleaned.index('id="') + 4 : cleaned.index("m1")]
    assert prefix.startswith("c") and prefix.endswith("-")
    assert f'href="#{prefix}m1"' in cleaned and f'url(#{prefix}p1)' in cleaned and f'id="{prefix}p1"' in cleaned
    other = clean_svg(raw.replace("<svg>", '<svg width="2">'))
    assert prefix not in other  # another chart, other ids
