"""Charts drawn on the server as SVG."""

from xml.etree import ElementTree

import pytest

from igpm.charts import Series, axis_top, bar_chart, line_chart, number

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(markup: str) -> ElementTree.Element:
    """The chart's <svg>, parsed: the whole markup must be well-formed XML.
    (Markup this module made, not input from outside.)"""
    chart = ElementTree.fromstring(markup)  # noqa: S314
    assert chart.get("class") == "chart"
    return chart.find(f"{SVG}svg")


def test_a_bar_chart_is_a_named_image_that_states_its_figures():
    markup = bar_chart(
        chart_id="chart-grades",
        title="Members by <grade>",
        labels=["Member", "Fellow & co"],
        series=[Series("Members", [1234, 0])],
    )
    svg = svg_of(markup)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-grades-title chart-grades-desc"
    assert svg.find(f"{SVG}title").text == "Members by <grade>"
    assert svg.find(f"{SVG}desc").text == "Member: 1,234; Fellow & co: 0."
    assert "&lt;grade&gt;" in markup  # escaped in the markup
    # The largest value takes the full bar span; zero draws no bar.
    bars = svg.findall(f"{SVG}rect")
    assert [bar.get("width") for bar in bars] == ["78%"]
    labels = [text.text for text in svg.findall(f"{SVG}text")]
    assert labels == ["Member", "1,234", "Fellow & co", "0"]
    assert "chart__legend" not in markup  # one series needs no legend


def test_stacked_bars_sit_end_to_end_with_the_total_at_the_end():
    markup = bar_chart(
        chart_id="c",
        title="t",
        labels=["Member", "Fellow"],
        series=[Series("Active", [30, 10]), Series("In grace", [10, 0])],
        stacked=True,
    )
    svg = svg_of(markup)
    bars = [(bar.get("x"), bar.get("width"), bar.get("fill")) for bar in svg.iter(f"{SVG}rect")]
    assert bars == [
        ("0%", "58.5%", "#005eb8"),
        ("58.5%", "19.5%", "#b35c00"),
        ("0%", "19.5%", "#005eb8"),
    ]
    assert [t.text for t in svg.findall(f"{SVG}text")] == ["Member", "40", "Fellow", "10"]
    assert svg.find(f"{SVG}desc").text == (
        "Member: Active 30, In grace 10; Fellow: Active 10, In grace 0."
    )
    assert "</svg> Active</li>" in markup and "</svg> In grace</li>" in markup


def test_grouped_bars_against_a_fixed_maximum():
    svg = svg_of(
        bar_chart(
            chart_id="c",
            title="t",
            labels=["Webinar"],
            series=[Series("Fill", [50.0]), Series("Attendance", [None])],
            unit="%",
            maximum=100,
        )
    )
    assert [bar.get("width") for bar in svg.iter(f"{SVG}rect")] == ["39%"]
    assert [t.text for t in svg.findall(f"{SVG}text")] == ["Webinar", "50%", "no data"]


def test_a_line_chart_leaves_a_gap_for_missing_values():
    markup = line_chart(
        chart_id="c",
        title="Retention",
        labels=["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026"],
        ticks=["Jan\n2026", "Feb", "Mar", "Apr"],
        series=[Series("Renewed", [80.0, None, 90.5, 85.0])],
        unit="%",
        maximum=100,
    )
    svg = svg_of(markup)
    plot = svg.find(f"{SVG}svg")
    lines = [path.get("d") for path in plot.findall(f"{SVG}path") if "h0" not in path.get("d")]
    # Two runs: January alone, then March to April.
    assert lines == ["M0.0 200.0", "M666.7 95.0 L1000.0 150.0"]
    assert svg.find(f"{SVG}desc").text == (
        "Jan 2026 to Apr 2026. Renewed: highest 90.5% (Mar 2026), lowest 80% (Jan 2026). "
        "Jan 2026 80%, Feb 2026 no data, Mar 2026 90.5%, Apr 2026 85%."
    )
    grid_values = [
        t.text for t in svg.findall(f"{SVG}text") if "chart__tick" not in (t.get("class") or "")
    ]
    assert grid_values == ["0%", "25%", "50%", "75%", "100%"]
    first_tick = svg.find(f"{SVG}text[@class='chart__tick chart__tick--minor']")
    assert [span.text for span in first_tick] == ["Jan", "2026"]


@pytest.mark.parametrize(
    ("value", "top"), [(0, 4), (3, 4), (9, 12), (41, 80), (87, 100), (1234, 1600)]
)
def test_axis_tops_are_round_and_reach_the_value(value, top):
    assert axis_top(value, 4) == top


def test_numbers_are_grouped_and_rounded():
    assert [number(12345), number(7.25, "%"), number(80.0, "%"), number(None)] == [
        "12,345",
        "7.2%",
        "80%",
        "no data",
    ]
