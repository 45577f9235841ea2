"""Server-rendered SVG charts: scaled bars, gaps for unknown values, escaped labels."""

import re

import pytest

from hub.console.charts import bar_chart, line_chart

pytestmark = pytest.mark.unit


def test_bar_lengths_are_proportional_and_labels_escaped():
    svg = str(bar_chart("Volume <by> category", [("cards", 10), ("fees", 5), ("<b>", 0), ("kyc", None)], "", "v"))
    widths = [int(w) for w in re.findall(r'class="bar" x="\d+" y="\d+" width="(\d+)"', svg)]
    assert abs(widths[0] - 2 * widths[1]) <= 1 and widths[2] == 0 and widths[3] == 0
    assert "&lt;b&gt;" in svg and "<b>" not in svg and "Volume &lt;by&gt; category" in svg
    assert 'role="img"' in svg and ">–<" in svg


def test_line_has_a_gap_where_a_day_has_no_value():
    svg = str(line_chart("FRT", [("2026-03-01", 5), ("2026-03-02", 10), ("2026-03-03", None), ("2026-03-04", 2),
                                 ("2026-03-05", 4)], "min", "f"))
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4
    assert "03-01" in svg and "03-05" in svg
