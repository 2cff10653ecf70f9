"""The weekly bulletin and the monthly report (周通报 / 月报告): their figures (figures.py)
rendered as Markdown and as self-contained HTML with inline SVG charts (charts.py). Pure.

`python -m services.reporting.bulletins --region 411900 --week 2026-11-16 --format md`
gathers one from the reporting store and prints it (bulletins/__main__.py).
"""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from services.reporting.bulletins import charts
from services.reporting.bulletins.charts import one_decimal, percent
from services.reporting.bulletins.figures import BulletinFigures

TITLES = {"week": ("周通报", "weekly bulletin"), "month": ("月报告", "monthly report")}

# (attribute of Rates, part, base, 中文, English)
RATES = (
    ("response_rate", "accepted_on_time", "assigned", "响应率", "response"),
    ("completion_rate", "resolved", "assigned", "办结率", "completion"),
    ("on_time_rate", "resolved_on_time", "resolved", "按时办结率", "on-time"),
    ("resolution_rate", "solved", "visited", "解决率", "resolution"),
    ("satisfaction_rate", "satisfied", "visited", "满意率", "satisfaction"),
    ("direct_handling_rate", "answered_directly", "received", "直办率", "direct handling"),
    ("reopen_rate", "reopened", "resolved", "重办率", "reopen"),
    ("duplicate_rate", "merged", "received", "重复件率", "duplicate"),
)
COUNTS = (
    ("received", "受理", "received"),
    ("answered_directly", "直办", "answered directly"),
    ("assigned", "转办", "assigned"),
    ("resolved", "办结", "resolved"),
    ("visited", "回访", "visited"),
)
CHANNELS = {
    "hotline": "12345热线", "web": "网站", "miniapp": "小程序", "mailbox": "信箱",
    "letter": "来信", "visit": "来访", "grid": "网格上报", "enterprise_visit": "万人助企",
    "meeting": "夜话/屋场会", "inspection": "督查", "open311": "Open311",
}  # fmt: skip
STATES = {
    "received": "已受理", "answered": "已直办", "triaged": "已分类", "merged": "已合并",
    "assigned": "已转办", "accepted": "已签收", "returned": "已退回", "resolved": "已办结",
    "verified": "已核查", "visited": "已回访", "reopened": "重办中", "closed": "已销号",
}  # fmt: skip
FLAGS = {"yellow": "黄旗", "red": "红旗"}
# the line chart: the three ranked rates and the completion rate, per day
DAILY = (
    ("response_rate", "响应率 response", "#1f77b4"),
    ("completion_rate", "办结率 completion", "#2ca02c"),
    ("resolution_rate", "解决率 resolution", "#ff7f0e"),
    ("satisfaction_rate", "满意率 satisfaction", "#9467bd"),
)


def score(value: float | None) -> str:
    return "—" if value is None else one_decimal(value)


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def region_title(figures: BulletinFigures) -> str:
    if figures.region_code is None:
        return "全部地区 (all regions)"
    if figures.region_name:
        return f"{figures.region_name} ({figures.region_code})"
    return figures.region_code


def _context(figures: BulletinFigures) -> dict[str, object]:
    totals = figures.totals
    zh, en = TITLES[figures.period.kind]
    return {
        "f": figures,
        "title_zh": zh,
        "title_en": en,
        "region": region_title(figures),
        "counts": [(z, e, getattr(totals, key)) for key, z, e in COUNTS],
        "rates": [
            (z, e, getattr(totals, rate), getattr(totals, part), getattr(totals, base))
            for rate, part, base, z, e in RATES
        ],
        "channels": [(CHANNELS.get(c, c), c, n) for c, n in figures.by_channel],
        "daily_rates": [(key, label) for key, label, _ in DAILY],
        "states": STATES,
        "flags": FLAGS,
    }


_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html.j2"], default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_environment.filters |= {
    "percent": percent,
    "score": score,
    "cell": cell,
    "rate_of": lambda key, rates: percent(getattr(rates, key)),
}


def render_markdown(figures: BulletinFigures) -> str:
    return _environment.get_template("bulletin.md.j2").render(_context(figures))


def render_html(figures: BulletinFigures) -> str:
    return _environment.get_template("bulletin.html.j2").render(
        _context(figures) | {"charts": chart_svgs(figures)}
    )


def chart_svgs(figures: BulletinFigures) -> dict[str, Markup]:
    """The three charts: rates per day, the office ranking, overdue by office."""
    days = figures.daily
    rates_over_time = charts.line_chart(
        "每日指标 (rates per day)",
        [d.day.strftime("%m-%d") for d in days],
        [
            charts.Series(key, label, colour, tuple(getattr(d.rates, key) for d in days))
            for key, label, colour in DAILY
        ],
    )
    ranking = charts.bar_chart(
        "责任单位排名 (office ranking)",
        [charts.BarGroup(r.name or r.unit_id, (r.score,)) for r in figures.office_ranking],
        [("score", "得分 score", "#1f77b4")],
        scale=100,
        fmt=one_decimal,
    )
    overdue = charts.bar_chart(
        "逾期情况 (overdue by office)",
        [charts.BarGroup(o.name or o.office_id, (o.yellow, o.red)) for o in figures.overdue],
        [("yellow", "黄旗 yellow", "#e6b800"), ("red", "红旗 red", "#d62728")],
    )
    return {
        "rates": Markup(rates_over_time),
        "ranking": Markup(ranking),
        "overdue": Markup(overdue),
    }
