"""The stats charts in a real browser: tick labels neither overlap nor leave their chart, at any width."""

import uuid

import pytest

from tests.factories import approve_some, expect

# Each chart's x-axis labels (centred under their column, point or grid line), and every text's box
# against its SVG's and the SVG's against its figure's, as the browser lays them out.
GEOMETRY = """
svg => {
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  return {
    svg: box(svg),
    figure: box(svg.closest("figure")),
    ticks: [...svg.querySelectorAll("text.tick[text-anchor=middle]")].map((t) => [t.textContent, box(t)]),
    texts: [...svg.querySelectorAll("text")].map((t) => [t.textContent, box(t)]),
  };
}
"""


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner, outer, slack=0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_axis_labels_neither_overlap_nor_are_clipped(logged_in_page, story, width):
    approve_some(logged_in_page, story, count=1)
    page = logged_in_page("lee")
    page.set_viewport_size({"width": width, "height": 900})
    problems = []
    for period in ("7d", "30d"):
        page.goto(f"/stats?period={period}")
        charts = page.locator("svg.chart-svg")
        expect(charts).to_have_count(8)
        for index in range(charts.count()):
            chart = charts.nth(index)
            name = chart.get_attribute("aria-labelledby")
            shapes = chart.evaluate(GEOMETRY)
            where = f"{name} ({period}, {width} px)"
            if not inside(shapes["svg"], shapes["figure"]):
                problems.append(f"{where} runs out of its figure")
            ticks = shapes["ticks"]
            for (text, box), (other, other_box) in zip(ticks, ticks[1:], strict=False):
                if overlap(box, other_box):
                    problems.append(f"{where}: {text!r} overlaps {other!r}")
            for text, box in shapes["texts"]:
                if not inside(box, shapes["svg"]):
                    problems.append(f"{where}: {text!r} is clipped")
    assert problems == []


def test_a_rate_from_few_decisions_carries_their_count_instead_of_standing_bold(logged_in_page, story):
    # An outlet of its own: other tests of the session decide many articles of the real seed's.
    outlet = f"Outlet {uuid.uuid4().hex[:8]}"
    approve_some(logged_in_page, story, count=1, **{"name: Business Matters": f"name: {outlet}"})
    page = logged_in_page("lee")
    page.goto(f"/stats?period=today&provider={outlet}")
    rate = page.locator(".headline-figures div", has_text="Approval rate").locator("dd")
    expect(rate.locator(".sample-mark")).to_have_text("1 decision")
    assert int(rate.evaluate("dd => getComputedStyle(dd).fontWeight")) < 600
    stale = page.locator(".headline-figures div", has_text="Stale pending now")
    expect(stale.locator("dd.help")).to_have_text("published over 48 h ago")
    oldest = page.locator(".headline-figures div", has_text="Oldest pending")
    expect(oldest.locator("dd.help")).to_have_text("waiting since its import")
