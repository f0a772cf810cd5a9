"""The portals' SVG charts: pure functions from numbers to markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from portals.charts import axis_top, bar_chart, gauge, nice_ceiling, quantity, usage_charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    """Parse the chart as XML (it must be well-formed to be inline SVG)."""
    return ET.fromstring(str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if "bar" in r.get("class", "").split()]


def test_quantities_are_said_for_people():
    assert [quantity(v, "MB") for v in (0, 300, 1024, 1536, 30720)] == ["0 MB", "300 MB", "1 GB", "1.5 GB", "30 GB"]
    assert [quantity(v, "s") for v in (45, 60, 90, 5400, 5910)] == ["45 s", "1 min", "1.5 min", "90 min", "98.5 min"]
    assert quantity(3, "sms") == "3 SMS"


def test_axis_tops_are_round_and_never_below_the_peak():
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 10, 11, 240, 501)] == [1, 1, 5, 10, 10, 20, 500, 1000]
    assert axis_top(700, "MB") == 1000 and axis_top(3000, "MB") == 5 * 1024 and axis_top(600, "s") == 10 * 60
    for peak in range(0, 5000, 37):
        assert axis_top(peak, "MB") >= peak


def test_a_bar_is_as_tall_as_its_share_of_the_axis_and_future_days_are_empty():
    svg = bar_chart([500, 250, 0, 999], "MB", "Data used per day", current=3, ident="t1")
    root = parse(svg)
    drawn = bars(root)
    assert len(drawn) == 3  # day 4 is to come: no bar, only a baseline mark
    heights = [float(r.get("height")) for r in drawn]
    assert heights[0] == 2 * heights[1] and heights[2] == 0.0
    assert heights[0] == 92 * 500 / 500  # the axis top is 500 MB: the busiest day fills the plot
    assert [r.get("class") for r in drawn] == ["bar", "bar", "bar today"]
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "future"]) == 1
    # What is drawn is also said: the total so far (not day 4's), the busiest day, per-bar tooltips.
    desc = root.find(f"{SVG}desc").text
    assert desc == "750 MB used so far this period (day 3 of 4); the busiest day used 500 MB."
    assert root.get("role") == "img" and root.get("aria-labelledby") == "t1-t t1-d"
    assert drawn[1].find(f"{SVG}title").text == "Day 2: 250 MB"


def test_titles_are_escaped_and_the_result_is_safe_markup():
    svg = bar_chart([1], "sms", "<script>x</script>", ident="t2")
    assert isinstance(svg, Markup) and "<script>" not in svg and "&lt;script&gt;" in svg
    parse(svg)


def test_usage_charts_draw_data_calls_and_sms_of_a_daily_body_with_dates():
    body = {"currentDay": 2, "days": [
        {"day": 1, "start": "2026-12-07T10:00:00Z", "data": 2048, "voice": 120, "sms": 1},
        {"day": 2, "start": "2026-12-08T10:00:00Z", "data": 1024, "voice": 0, "sms": 4},
        {"day": 3, "start": "2026-12-09T10:00:00Z", "data": 0, "voice": 0, "sms": 0}]}
    charts = usage_charts(body, ident="SUB-1")
    assert [title for title, _ in charts] == ["Data", "Calls", "SMS"]
    data = parse(charts[0][1])
    assert "3 GB used so far this period (day 2 of 3)" in data.find(f"{SVG}desc").text
    assert bars(data)[0].find(f"{SVG}title").text == "Day 1 (7 Dec): 2 GB"
    assert len({re.search(r'id="([^"]+)-t"', svg).group(1) for _, svg in charts}) == 3  # ids unique per page
    assert usage_charts({"days": []}) == [] and usage_charts({}) == []


def test_a_chart_stays_small():
    svg = bar_chart([123456] * 31, "MB", "Data used per day", current=31)
    assert len(svg) < 5000


def test_gauges_fill_with_what_is_left_and_say_so():
    half = gauge("Data", 2560, 5120, "MB")
    assert (half.left, half.of, half.percent, half.low, half.words) == ("2.5 GB left", "of 5 GB", 50, False,
                                                                         "2.5 GB left of 5 GB")
    low = gauge("Calls", 600, 6000, "s")
    assert low.low and low.percent == 10 and low.left == "10 min left"
    empty = gauge("Data", 0, 5120, "MB")
    assert empty.percent == 0 and empty.low and empty.left == "0 MB left"
    unlimited = gauge("SMS", None, None, "sms", unlimited=True)
    assert unlimited.unlimited and unlimited.percent == 100 and unlimited.words == "unlimited" and not unlimited.low
    assert gauge("Data", 9000, 5120, "MB").percent == 100  # a top-up beyond the bundle never overflows the bar
