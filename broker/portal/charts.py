"""Charts drawn on the server as inline SVG, readable without script or colour.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and summarised by its ``<desc>``
(``aria-labelledby`` points at both); inside, every bar or point has its own ``<title>``
(label and value, shown on hover), series differ by pattern, marker shape and dash as well as
by colour, and a legend names them in text. Pages put the same figures in a table next to
every chart: the table, not the drawing, is what assistive technologies read.

Nothing is styled inline (the portal's policy forbids it): the drawing carries classes
(``chart-…``) that the statistics' style sheet colours. The SVG is built as an XML tree, so
labels are escaped and the output is well-formed whatever the text.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from broker.web.locale import current_locale

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 340  # viewBox units: narrow, so that text stays legible on a phone's 390 px
TEXT_HEIGHT = 12
CHAR_WIDTH = 6.2  # an average character of the charts' 11 px text, to make room for it
RIGHT = 8
TOP = 34  # room for the legend
BOTTOM = 24  # room for the category labels
PLOT_HEIGHT = 160
MAX_CATEGORY_LABELS = 5  # at most this many labels under the columns (every bar has a title)
LABEL_CHARS = 50  # a bar chart's label is wrapped past this many characters
STYLES = ("solid", "hatched", "dotted")  # pattern of each series, in order

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    name: str  # shown in the legend and as the table's column header
    values: tuple[float | None, ...]  # one per category; None: nothing to draw
    texts: tuple[str, ...]  # the values as the page writes them (locale, unit)


@dataclass(frozen=True)
class ChartData:
    id: str  # unique in the page: prefixes the ids of the title, description and patterns
    title: str
    description: str  # a sentence or two summing up what the chart shows
    categories: tuple[str, ...]  # short labels (axis), in order
    series: tuple[Series, ...]


def nice_ceiling(value: float) -> float:
    """The round number (1, 2, 2.5 or 5 times a power of ten) at or above ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def svg_root(chart: ChartData, height: float) -> ET.Element:
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "class": "chart",
            "viewBox": f"0 0 {WIDTH} {round(height)}",
            "role": "img",
            "aria-labelledby": f"{chart.id}-title {chart.id}-desc",
            "focusable": "false",
        },
    )
    ET.SubElement(svg, "title", {"id": f"{chart.id}-title"}).text = chart.title
    ET.SubElement(svg, "desc", {"id": f"{chart.id}-desc"}).text = chart.description
    defs = ET.SubElement(svg, "defs")
    for style, shape in (("hatched", hatch_shape), ("dotted", dot_shape)):
        pattern = ET.SubElement(
            defs,
            "pattern",
            {
                "id": f"{chart.id}-{style}",
                "width": "6",
                "height": "6",
                "patternUnits": "userSpaceOnUse",
            },
        )
        ET.SubElement(pattern, "rect", {"class": f"chart-pattern-ground-{style}"} | box(0, 0, 6, 6))
        shape(pattern)
    return svg


def hatch_shape(pattern: ET.Element) -> None:
    ET.SubElement(
        pattern, "path", {"class": "chart-hatch", "d": "M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2"}
    )


def dot_shape(pattern: ET.Element) -> None:
    ET.SubElement(pattern, "circle", {"class": "chart-dot", "cx": "3", "cy": "3", "r": "1.4"})


def colon() -> str:
    """Between a label and its value: French puts a space before the colon."""
    return " : " if current_locale() == "fr" else ": "


def box(x: float, y: float, width: float, height: float) -> dict[str, str]:
    return {"x": num(x), "y": num(y), "width": num(width), "height": num(height)}


def num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def fill_attributes(chart: ChartData, index: int) -> dict[str, str]:
    style = STYLES[index % len(STYLES)]
    attributes = {"class": f"chart-series chart-series-{style}"}
    if style != "solid":
        attributes["fill"] = f"url(#{chart.id}-{style})"  # an attribute: allowed by the CSP
    return attributes


def text(parent: ET.Element, x: float, y: float, content: str, **attributes: str) -> None:
    element = ET.SubElement(parent, "text", {"x": num(x), "y": num(y)})
    for name, value in attributes.items():
        element.set(name.rstrip("_").replace("_", "-"), value)
    element.text = content


def legend(svg: ET.Element, chart: ChartData, swatch: Callable[[ET.Element, int, float], None]):
    group = ET.SubElement(svg, "g", {"class": "chart-legend"})
    x = 8.0
    for index, series in enumerate(chart.series):
        swatch(group, index, x)
        text(group, x + 18, 18, series.name)
        x += 30 + CHAR_WIDTH * len(series.name)


def left_margin(axis_labels: Sequence[str]) -> float:
    """Room for the value axis' labels, right-aligned against the plot."""
    return 14 + CHAR_WIDTH * max((len(label) for label in axis_labels), default=1)


def value_axis(svg: ET.Element, left: float, levels: dict[float, str]) -> None:
    """Grid lines at ``levels`` (a fraction of the plot's height: its label)."""
    group = ET.SubElement(svg, "g", {"class": "chart-axis"})
    for fraction, label in levels.items():
        y = TOP + PLOT_HEIGHT * (1 - fraction)
        ET.SubElement(
            group,
            "line",
            {"class": "chart-grid", "x1": num(left), "x2": num(WIDTH - RIGHT), "y1": num(y)}
            | {"y2": num(y)},
        )
        text(group, left - 6, y + 4, label, text_anchor="end")


def category_labels(svg: ET.Element, categories: Sequence[str], left: float, slot: float) -> None:
    group = ET.SubElement(svg, "g", {"class": "chart-axis"})
    step = max(1, math.ceil(len(categories) / MAX_CATEGORY_LABELS))
    for index, label in enumerate(categories):
        # Every step-th label from the last (the latest period is always named).
        if (len(categories) - 1 - index) % step == 0:
            x = left + slot * (index + 0.5)
            text(group, x, TOP + PLOT_HEIGHT + 16, label, text_anchor="middle")


def column_chart(chart: ChartData, fmt: Formatter = lambda v: f"{v:g}") -> Markup:
    """Columns over the categories (periods), the series stacked bottom up."""
    height = TOP + PLOT_HEIGHT + BOTTOM
    svg = svg_root(chart, height)

    def swatch(group: ET.Element, index: int, x: float) -> None:
        ET.SubElement(group, "rect", fill_attributes(chart, index) | box(x, 8, 14, 12))

    legend(svg, chart, swatch)
    count = len(chart.categories)
    totals = [sum(series.values[i] or 0 for series in chart.series) for i in range(count)]
    maximum = nice_ceiling(max(totals, default=0))
    # Counts: the middle line only where it falls on a whole number.
    fractions = (0, 0.5, 1) if (maximum / 2).is_integer() else (0, 1)
    levels = {fraction: fmt(maximum * fraction) for fraction in fractions}
    left = left_margin(list(levels.values()))
    value_axis(svg, left, levels)
    slot = (WIDTH - left - RIGHT) / max(count, 1)
    bars = ET.SubElement(svg, "g", {"class": "chart-bars"})
    for i, category in enumerate(chart.categories):
        base: float = TOP + PLOT_HEIGHT
        for index, series in enumerate(chart.series):
            value = series.values[i] or 0
            if value <= 0:
                continue
            size = PLOT_HEIGHT * value / maximum
            base -= size
            rect = ET.SubElement(
                bars,
                "rect",
                fill_attributes(chart, index)
                | box(left + slot * (i + 0.15), base, slot * 0.7, size)
                | {"data-value": num(value)},
            )
            ET.SubElement(
                rect, "title"
            ).text = f"{category} – {series.name}{colon()}{series.texts[i]}"
    category_labels(svg, chart.categories, left, slot)
    return markup(svg)


def wrapped(label: str, width: int = LABEL_CHARS) -> list[str]:
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def bar_chart(chart: ChartData) -> Markup:
    """Horizontal bars, one per category (a product, a provider), of the first series; each
    labelled above its bar and valued at its end."""
    series = chart.series[0]
    rows = [wrapped(label) for label in chart.categories]
    row_heights = [len(lines) * (TEXT_HEIGHT + 3) + 22 for lines in rows]
    height = 8 + sum(row_heights)
    svg = svg_root(chart, height)
    maximum = nice_ceiling(max((v or 0 for v in series.values), default=0))
    room = WIDTH - 8 - 72  # the value's text after the longest bar
    group = ET.SubElement(svg, "g", {"class": "chart-bars"})
    y = 8.0
    for lines, row_height, label, value, value_text in zip(
        rows, row_heights, chart.categories, series.values, series.texts, strict=True
    ):
        for n, line in enumerate(lines):
            text(group, 8, y + TEXT_HEIGHT + n * (TEXT_HEIGHT + 3), line)
        bar_y = y + len(lines) * (TEXT_HEIGHT + 3) + 4
        length = room * (value or 0) / maximum
        rect = ET.SubElement(
            group,
            "rect",
            fill_attributes(chart, 0) | box(8, bar_y, length, 12) | {"data-value": num(value or 0)},
        )
        ET.SubElement(rect, "title").text = f"{label}{colon()}{value_text}"
        text(group, 8 + length + 6, bar_y + 10, value_text, class_="chart-value")
        y += row_height
    return markup(svg)


MARKERS = ("circle", "square", "diamond")


def line_chart(chart: ChartData, levels: Sequence[str], level_labels: dict[int, str]) -> Markup:
    """Lines over the categories on an axis of ordered levels (a series' value is the index
    of its level: latency buckets, log-spaced); ``level_labels`` names some of the levels.
    Series differ by marker shape and dash; a missing value breaks the line."""
    height = TOP + PLOT_HEIGHT + BOTTOM
    svg = svg_root(chart, height)
    top_level = max(len(levels) - 1, 1)

    def y_of(level: float) -> float:
        return TOP + PLOT_HEIGHT * (1 - level / top_level)

    def swatch(group: ET.Element, index: int, x: float) -> None:
        ET.SubElement(
            group,
            "line",
            {"class": f"chart-line chart-line-{index}", "x1": num(x), "x2": num(x + 14)}
            | {"y1": "14", "y2": "14"},
        )
        marker(group, index, x + 7, 14, "")

    legend(svg, chart, swatch)
    left = left_margin(list(level_labels.values()))
    value_axis(svg, left, {level / top_level: label for level, label in level_labels.items()})
    slot = (WIDTH - left - RIGHT) / max(len(chart.categories), 1)
    for index, series in enumerate(chart.series):
        group = ET.SubElement(svg, "g", {"class": f"chart-line-series chart-line-{index}"})
        points = [
            (left + slot * (i + 0.5), y_of(value), i)
            for i, value in enumerate(series.values)
            if value is not None
        ]
        for run in runs(points):
            if len(run) > 1:
                d = "M" + " L".join(f"{num(x)},{num(y)}" for x, y, _ in run)
                ET.SubElement(group, "path", {"class": f"chart-line chart-line-{index}", "d": d})
        for x, y, i in points:
            title = f"{chart.categories[i]} – {series.name}{colon()}{series.texts[i]}"
            marker(group, index, x, y, title, level=series.values[i])
    category_labels(svg, chart.categories, left, slot)
    return markup(svg)


def runs(points: list[tuple[float, float, int]]) -> list[list[tuple[float, float, int]]]:
    """Consecutive categories together: a gap (no value) breaks the line."""
    out: list[list[tuple[float, float, int]]] = []
    for point in points:
        if out and out[-1][-1][2] == point[2] - 1:
            out[-1].append(point)
        else:
            out.append([point])
    return out


def marker(
    parent: ET.Element, index: int, x: float, y: float, title: str, level: float | None = None
) -> None:
    shape = MARKERS[index % len(MARKERS)]
    attributes = {"class": f"chart-marker chart-marker-{shape}"}
    if level is not None:
        attributes["data-value"] = num(level)
    if shape == "circle":
        element = ET.SubElement(
            parent, "circle", attributes | {"cx": num(x), "cy": num(y), "r": "4"}
        )
    elif shape == "square":
        element = ET.SubElement(parent, "rect", attributes | box(x - 4, y - 4, 8, 8))
    else:
        d = f"M{num(x)},{num(y - 5)} l5,5 l-5,5 l-5,-5 Z"
        element = ET.SubElement(parent, "path", attributes | {"d": d})
    if title:
        ET.SubElement(element, "title").text = title


def markup(svg: ET.Element) -> Markup:
    """The SVG as HTML-safe markup (every text and attribute escaped by the serialiser)."""
    return Markup(ET.tostring(svg, encoding="unicode", short_empty_elements=True))
