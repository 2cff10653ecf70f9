"""The bulletin's renderers on hand-built figures: every figure where a reader looks for it,
formatted as a reader reads it; the HTML well-formed with one SVG per chart."""

import re
import xml.etree.ElementTree as ET
from dataclasses import fields, replace
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from services.reporting.bulletins.charts import percent
from services.reporting.bulletins.figures import (
    BacklogCase,
    BulletinFigures,
    DayRates,
    Overdue,
    Ranked,
)
from services.reporting.bulletins.render import render_html, render_markdown
from services.reporting.domain.period import Period
from services.reporting.domain.rates import Rates

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = Period.week_of(date(2026, 11, 18))
SVG = "{http://www.w3.org/2000/svg}"


def counts(**given: int) -> Rates:
    return Rates(**{f.name: 0 for f in fields(Rates)} | given)


TOTALS = counts(
    received=12, answered_directly=3, assigned=8, accepted_on_time=7, resolved=6,
    resolved_on_time=5, visited=4, solved=3, satisfied=0, reopened=1, merged=2,
)  # fmt: skip
BUSY = counts(received=4, assigned=3, accepted_on_time=2, resolved=1)
DAILY = tuple(
    DayRates(day, {0: replace(BUSY, visited=1, solved=1, satisfied=1), 2: BUSY}.get(n, counts()))
    for n, day in enumerate(WEEK.days)
)
FIGURES = BulletinFigures(
    period=WEEK,
    region_code="411900",
    region_name="中州市",
    generated_at=datetime(2026, 11, 23, 8, tzinfo=SHANGHAI),
    totals=TOTALS,
    by_channel=(("hotline", 7), ("grid", 5)),
    daily=DAILY,
    office_ranking=(
        Ranked(1, "411901-water_affairs", "和塘区水务局", 87.25, 1.0, 0.75, 0.8, 4),
        Ranked(2, "411901001-township_office", "银台街道办事处", 40.0, 0.5, None, None, 2),
        Ranked(3, "office-x", None, None, None, None, None, 0),
    ),
    township_ranking=(Ranked(1, "411901001", "银台街道", 66.65, 0.6667, 0.5, 1.0, 6),),
    score_rule="得分 = 响应率×40% + 解决率×30% + 满意率×30%",
    overdue=(
        Overdue("411901-water_affairs", "和塘区水务局", 3, 1),
        Overdue("office-x", None, 1, 0),
    ),
    backlog=(
        BacklogCase(
            "iss-old",
            "office-x",
            "旧 | 单位",
            "411901001001",
            "street_lighting",
            date(2026, 10, 1),
            52,
            "accepted",
            "red",
        ),
    ),
    backlog_days=30,
    backlog_total=80,
)


def section(markdown: str, heading: str) -> str:
    """The text under a heading, up to the next heading of any level."""
    start = markdown.index(heading) + len(heading)
    following = re.search(r"^#", markdown[start:], re.MULTILINE)
    return markdown[start : start + following.start()] if following else markdown[start:]


def rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown table in `text`, cells stripped (`\\|` kept as `|`)."""
    table = [line for line in text.splitlines() if line.startswith("|")]
    return [
        [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        for line in table[2:]
    ]


def test_the_markdown_carries_every_headline_count_and_channel() -> None:
    md = render_markdown(FIGURES)
    assert md.startswith("# 周通报 (weekly bulletin) · 中州市 (411900)\n")
    assert "2026年第47周（2026-11-16 至 2026-11-22）" in md
    assert rows(section(md, "(headline counts)")) == [
        ["受理 (received)", "12"],
        ["直办 (answered directly)", "3"],
        ["转办 (assigned)", "8"],
        ["办结 (resolved)", "6"],
        ["回访 (visited)", "4"],
    ]
    assert rows(section(md, "(by channel)")) == [
        ["12345热线 (hotline)", "7"],
        ["网格上报 (grid)", "5"],
    ]


def test_the_markdown_shows_each_rate_with_one_decimal_and_its_base() -> None:
    md = render_markdown(FIGURES)
    assert rows(section(md, "## 二、主要指标 (rates)")) == [
        ["响应率 (response)", "87.5%", "7/8"],
        ["办结率 (completion)", "75.0%", "6/8"],
        ["按时办结率 (on-time)", "83.3%", "5/6"],
        ["解决率 (resolution)", "75.0%", "3/4"],
        ["满意率 (satisfaction)", "0.0%", "0/4"],
        ["直办率 (direct handling)", "25.0%", "3/12"],
        ["重办率 (reopen)", "16.7%", "1/6"],
        ["重复件率 (duplicate)", "16.7%", "2/12"],
    ]
    empty = render_markdown(replace(FIGURES, totals=counts(received=2)))
    rates = {row[0]: row[1:] for row in rows(section(empty, "## 二、主要指标 (rates)"))}
    assert rates["响应率 (response)"] == ["无数据", "0/0"]
    assert rates["直办率 (direct handling)"] == ["0.0%", "0/2"]


def test_the_markdown_has_a_row_per_day_and_a_dash_where_a_day_has_no_base() -> None:
    daily = rows(section(render_markdown(FIGURES), "(rates per day)"))
    assert [row[0] for row in daily] == [d.isoformat() for d in WEEK.days]
    assert daily[0] == ["2026-11-16", "4", "3", "66.7%", "33.3%", "100.0%", "100.0%"]
    assert daily[1] == ["2026-11-17", "0", "0", "—", "—", "—", "—"]
    assert daily[2] == ["2026-11-18", "4", "3", "66.7%", "33.3%", "—", "—"]


def test_the_markdown_ranks_offices_and_townships_and_lists_overdue_and_backlog() -> None:
    md = render_markdown(FIGURES)
    assert FIGURES.score_rule in section(md, "## 四、排名 (ranking)")
    assert rows(section(md, "### 责任单位 (offices)")) == [
        ["1", "和塘区水务局", "87.3", "100.0%", "75.0%", "80.0%", "4"],
        ["2", "银台街道办事处", "40.0", "50.0%", "—", "—", "2"],
        ["3", "office-x", "—", "—", "—", "—", "0"],
    ]
    assert rows(section(md, "(townships)")) == [
        ["1", "银台街道", "66.7", "66.7%", "50.0%", "100.0%", "6"]
    ]
    assert rows(section(md, "(overdue by office)")) == [
        ["和塘区水务局", "3", "1"],
        ["office-x", "1", "0"],
    ]
    backlog = section(md, "(backlog cases)")
    assert "30 天" in backlog
    assert "共 80 件 (80 in all), 列出受理最早的 1 件 (the oldest 1 listed)" in backlog
    assert rows(backlog) == [
        [
            "iss-old", "旧 | 单位", "411901001001", "street_lighting", "2026-10-01", "52",
            "已签收 (accepted)", "红旗",
        ]
    ]  # fmt: skip


def test_an_empty_period_says_none_rather_than_an_empty_table() -> None:
    quiet = replace(
        FIGURES, totals=counts(), by_channel=(), office_ranking=(), township_ranking=(),
        overdue=(), backlog=(), backlog_total=0, region_code=None, region_name=None,
        daily=tuple(DayRates(d, counts()) for d in WEEK.days),
    )  # fmt: skip
    md = render_markdown(quiet)
    assert md.startswith("# 周通报 (weekly bulletin) · 全部地区 (all regions)")
    for heading in ("(by channel)", "### 责任单位 (offices)", "(overdue by office)"):
        assert section(md, heading).strip() == "无 (none)"
    assert section(md, "(backlog cases)").strip().endswith("无 (none)")
    assert "共 0 件 (0 in all)." in section(md, "(backlog cases)")
    html = render_html(quiet)
    assert html.count("<svg") == 3 and html.count("无数据 (no data)") == 3


def test_rates_round_half_up_as_a_reader_does() -> None:
    assert [percent(v) for v in (0.87245, 0.8725, 0.99999, 1.0, 0.0, None)] == [
        "87.2%", "87.3%", "100.0%", "100.0%", "0.0%", "—",
    ]  # fmt: skip


class Balance(HTMLParser):
    """Every element closed in order (void elements aside); text gathered."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def charts_of(html: str) -> dict[str, ET.Element]:
    found = re.findall(r"<svg.*?</svg>", html, re.DOTALL)
    parsed = [ET.fromstring(svg) for svg in found]
    return {svg.findtext(f"{SVG}title") or "": svg for svg in parsed}


def test_the_html_is_well_formed_self_contained_and_has_the_figures() -> None:
    html = render_html(FIGURES)
    parser = Balance()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.open == []
    text = " ".join(parser.text)
    for figure in ("87.5%", "7/8", "和塘区水务局", "87.3", "旧 | 单位", "红旗", "2026-10-01"):
        assert figure in text
    assert "<script" not in html and "http://" not in html.replace(SVG[1:-1], "")


def test_the_html_has_one_svg_per_chart_with_a_mark_per_value() -> None:
    charts = charts_of(render_html(FIGURES))
    assert set(charts) == {
        "每日指标 (rates per day)",
        "责任单位排名 (office ranking)",
        "逾期情况 (overdue by office)",
    }
    line = charts["每日指标 (rates per day)"]
    points = {
        series.get("data-series"): len(series.findall(f"{SVG}circle[@class='point']"))
        for series in line.iter(f"{SVG}g")
    }
    # two days with a base for response and completion, one with visits
    assert points == {
        "response_rate": 2, "completion_rate": 2, "resolution_rate": 1, "satisfaction_rate": 1,
    }  # fmt: skip
    bars = charts["责任单位排名 (office ranking)"].findall(f".//{SVG}rect[@class='bar score']")
    assert len(bars) == 3
    widths = [float(bar.get("width", "")) for bar in bars]
    assert widths[0] > widths[1] > widths[2] == 0
    overdue = charts["逾期情况 (overdue by office)"]
    yellow = overdue.findall(f".//{SVG}rect[@class='bar yellow']")
    red = overdue.findall(f".//{SVG}rect[@class='bar red']")
    assert (len(yellow), len(red)) == (2, 2)
    assert float(yellow[0].get("width", "")) > float(red[0].get("width", "")) > 0
    assert float(red[1].get("width", "")) == 0


def test_names_are_escaped_in_the_html() -> None:
    hostile = replace(
        FIGURES,
        region_name="<script>alert(1)</script>",
        overdue=(Overdue("o", "A&B <b>", 1, 1),),
    )
    html = render_html(hostile)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "A&amp;B &lt;b&gt;" in html
    charts_of(html)  # the SVGs still parse
