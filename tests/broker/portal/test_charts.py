"""Server-rendered SVG charts (broker.portal.charts): well-formed, named and described for
assistive technologies, series told apart without colour, the drawing true to the values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from broker.portal.charts import (
    ChartData,
    Series,
    bar_chart,
    column_chart,
    line_chart,
    nice_ceiling,
    wrapped,
)
from broker.web.locale import use_locale

NS = {"svg": "http://www.w3.org/2000/svg"}
PLOT_HEIGHT = 160


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # raises on anything not well-formed


def calls_chart(**overrides) -> ChartData:
    values = {
        "id": "calls",
        "title": "Appels <par> jour & plus",
        "description": "12 appels sur la période, dont 3 en erreur.",
        "categories": ("1 déc.", "2 déc.", "3 déc."),
        "series": (
            Series("Appels réussis", (5, 0, 4), ("5", "0", "4")),
            Series("Appels en erreur", (1, 2, 0), ("1", "2", "0")),
        ),
    }
    values.update(overrides)
    return ChartData(**values)


def bars_of(svg: ET.Element) -> list[ET.Element]:
    return svg.findall(".//svg:g[@class='chart-bars']/svg:rect", NS)


@pytest.mark.parametrize("draw", [column_chart, bar_chart])
def test_chart_is_an_image_named_by_its_title_and_description(draw):
    svg = parsed(draw(calls_chart()))
    assert svg.get("role") == "img"
    title = svg.find("svg:title", NS)
    desc = svg.find("svg:desc", NS)
    assert title is not None and desc is not None
    assert title.text == "Appels <par> jour & plus"  # escaped in the markup, intact here
    assert desc.text == "12 appels sur la période, dont 3 en erreur."
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert list(svg)[:2] == [title, desc]  # first children, as SVG wants them


def test_hostile_labels_are_escaped_not_markup():
    chart = calls_chart(
        title="</title><script>alert(1)</script>",
        categories=('<img src=x onerror="alert(1)">', "b", "c"),
    )
    for draw in (column_chart, bar_chart):
        markup = str(draw(chart))
        assert "<script" not in markup and "<img" not in markup
        assert parsed(markup).find("svg:title", NS).text.startswith("</title>")


def test_columns_are_stacked_and_sized_by_their_values():
    svg = parsed(column_chart(calls_chart()))
    bars = bars_of(svg)
    # Zero values draw nothing; each drawn bar carries its value and its titled text.
    assert [(b.get("data-value"), b.find("svg:title", NS).text) for b in bars] == [
        ("5", "1 déc. – Appels réussis : 5"),
        ("1", "1 déc. – Appels en erreur : 1"),
        ("2", "2 déc. – Appels en erreur : 2"),
        ("4", "3 déc. – Appels réussis : 4"),
    ]
    maximum = nice_ceiling(6)  # the tallest column: 5 + 1
    for bar in bars:
        assert float(bar.get("height")) == pytest.approx(
            PLOT_HEIGHT * float(bar.get("data-value")) / maximum, abs=0.01
        )
    first_ok, first_error = bars[0], bars[1]
    # The error part sits on top of the successful part of the same column.
    assert float(first_error.get("y")) + float(first_error.get("height")) == pytest.approx(
        float(first_ok.get("y")), abs=0.01
    )


def test_series_differ_by_pattern_not_colour_alone():
    svg = parsed(column_chart(calls_chart()))
    ok, error = bars_of(svg)[:2]
    assert "chart-series-solid" in ok.get("class") and ok.get("fill") is None
    assert error.get("fill") == "url(#calls-hatched)"
    assert svg.find(".//svg:pattern[@id='calls-hatched']", NS) is not None
    legend = [t.text for t in svg.findall(".//svg:g[@class='chart-legend']/svg:text", NS)]
    assert legend == ["Appels réussis", "Appels en erreur"]  # named in text


def test_nothing_is_styled_inline():
    for markup in (
        column_chart(calls_chart()),
        bar_chart(calls_chart()),
        line_chart(calls_chart(), [str(n) for n in range(11)], {0: "10 ms"}),
    ):
        assert all(element.get("style") is None for element in parsed(markup).iter())


def test_bars_are_proportional_and_labelled_with_their_values():
    chart = calls_chart(
        id="products",
        categories=("Quotient familial CAF & MSA", "Statut étudiant", "Prime d'activité"),
        series=(Series("Appels", (1200, 300, 0), ("1 200", "300", "0")),),
    )
    svg = parsed(bar_chart(chart))
    bars = bars_of(svg)
    assert [b.get("data-value") for b in bars] == ["1200", "300", "0"]
    assert float(bars[0].get("width")) == pytest.approx(4 * float(bars[1].get("width")))
    assert float(bars[2].get("width")) == 0
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "Quotient familial CAF & MSA" in texts and "1 200" in texts


def test_long_labels_wrap_instead_of_overflowing():
    label = "Revenu fiscal de référence et situation du foyer fiscal, avec une précision de plus"
    lines = wrapped(label, 30)
    assert " ".join(lines) == label and all(len(line) <= 30 for line in lines)


def test_line_chart_places_points_on_their_level_and_breaks_at_gaps():
    chart = calls_chart(
        id="latency",
        series=(
            Series("Médiane (p50)", (2, None, 3), ("≤ 50 ms", "–", "≤ 100 ms")),
            Series("95e centile (p95)", (4, None, 10), ("≤ 250 ms", "–", "> 10 000 ms")),
        ),
    )
    levels = [str(n) for n in range(11)]
    svg = parsed(line_chart(chart, levels, {0: "10 ms", 10: "> 10 000 ms"}))
    circles = svg.findall(".//svg:g[@class='chart-line-series chart-line-0']/svg:circle", NS)
    squares = svg.findall(".//svg:g[@class='chart-line-series chart-line-1']/svg:rect", NS)
    assert [c.get("data-value") for c in circles] == ["2", "3"]  # the missing day: no point
    assert [s.find("svg:title", NS).text for s in squares] == [
        "1 déc. – 95e centile (p95) : ≤ 250 ms",
        "3 déc. – 95e centile (p95) : > 10 000 ms",
    ]
    # Level 10 is the top of the plot, level 0 its bottom: y grows downwards.
    top = float(squares[1].get("y")) + 4
    assert top == pytest.approx(34)  # TOP margin
    # A gap between the points: no line drawn across it.
    assert svg.findall(".//svg:path[@class='chart-line chart-line-0']", NS) == []


def test_titles_follow_the_page_language():
    with use_locale("en"):
        svg = parsed(column_chart(calls_chart()))
    assert bars_of(svg)[0].find("svg:title", NS).text == "1 déc. – Appels réussis: 5"


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 1, 3, 6, 12, 180, 2400, 2600)] == [
        1,
        1,
        5,
        10,
        20,
        200,
        2500,
        5000,
    ]
