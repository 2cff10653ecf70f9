"""Count cells: what an issue's view contributes to the figures, and the figures summed back
from cells. Pure.

A cell is one counter document whose `_id` is the cell key (the only lookup the local
engine answers from an index), holding a map of counters (`n`):

- `D|<day>|<region>` and `M|<month>|<region>`: the issues reported that local day (month)
  in a region. `<region>` is `*` (every region), `p:<code>` (the code is on the region path
  routing gave) or `s:<stem>` (an issue with no path whose own code begins with that stem:
  `contracts.regions.lies_in` as keys). Counters: the numerators and bases of the rates
  (`r:<field>`), open issues by state, level and flag, the duration buckets, the channels;
  the same again per current lead office (`o=<office>|…`) and per category (`c=<cat>|…`);
  per office (`o:<id>:…`) and per township (`t:<code>:…`) what the rankings and the
  bulletin's overdue table read; the names the events gave offices, townships and regions.
  (A scope naming an office AND a category is not kept: it is counted over the facts.)
- `U|<region>`: the unsolved issues (the backlog's states) per local day reported
  (`u:<day>`, and per current lead office and category as above): the backlog's ages.
- `G`: the whole projection, as `/metrics` shows it (labels from bounded vocabularies).
- `Due|<clock>` (open issues per UTC day their clock fell due) and `Due|<clock>|<day>` (per
  minute of that day): overdue counts at a minute's precision, without reading issues.

`contributions(view)` is a function of the view alone, so an issue's contribution moves by
the difference between what it posted and what its new view contributes (`difference`).
Keys and counter names are escaped (`.`, `$`, `|`, `%`) so an id can never split a path.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from enum import StrEnum
from sys import intern
from typing import Any

from services.contracts.regions import stem
from services.contracts.vocabulary import Channel, ClockKind, IssueState, Kind, Level
from services.reporting.domain.facts import FLAGS, UNSOLVED
from services.reporting.domain.rates import Rates

Counters = dict[str, int]
Cells = dict[str, Counters]

ALL = "*"
RATE_FIELDS = tuple(f.name for f in dataclass_fields(Rates))
UNIT_FIELDS = ("assigned", "accepted_on_time", "visited", "solved", "satisfied")
"""What a ranking needs of each office or township (response, resolution, satisfaction)."""
RUNNING: dict[str, tuple[str, ...]] = {
    ClockKind.ACCEPT.value: (IssueState.ASSIGNED.value,),
    ClockKind.RESOLVE.value: (IssueState.ASSIGNED.value, IssueState.ACCEPTED.value),
}
"""The states in which a clock's work is still to do, so passing its due time is overdue."""
STEM_LENGTHS = (2, 4, 6, 9, 12, 15)
"""The lengths a region code's stem can have (contracts.regions.stem)."""
GLOBAL = "G"
NONE, OTHER = "none", "other"


ESCAPES = str.maketrans({"%": "%25", ".": "%2E", "$": "%24", "|": "%7C", ":": "%3A"})


def escape(part: object) -> str:
    """A key part or counter name that cannot split a path or a key."""
    return str(part).translate(ESCAPES)


def unescape(part: str) -> str:
    for raw, code in (("|", "%7C"), ("$", "%24"), (".", "%2E"), (":", "%3A"), ("%", "%25")):
        part = part.replace(code, raw)
    return part


def bounded(value: object, vocabulary: type[StrEnum]) -> str:
    """A label value: one of the vocabulary's, `none` when absent, `other` otherwise."""
    if value is None or value == "None":
        return NONE
    return str(value) if str(value) in vocabulary._value2member_map_ else OTHER


def region_keys(view: Mapping[str, Any]) -> list[str]:
    """The region keys of the cells an issue counts in (besides `*`)."""
    if view.get("by_path") and view.get("region_path"):
        return [f"p:{escape(code)}" for code in dict.fromkeys(view["region_path"])]
    code = str(view.get("region_code") or "")
    return [f"s:{escape(code[:n])}" for n in STEM_LENGTHS if code and n <= len(code)]


def region_key_of(region_code: str | None) -> list[str]:
    """The cells' region keys a read of `region_code` sums (None: every region)."""
    if region_code is None:
        return [ALL]
    return [f"p:{escape(region_code)}", f"s:{escape(stem(region_code))}"]


def cell_id(grain: str, when: str, region: str) -> str:
    return "|".join((grain, when, region))


def rate_counters(view: Mapping[str, Any]) -> Counters:
    """The numerators and bases of the rates (as `rates.rates` counts one issue)."""
    if not view.get("reported_day"):
        return {}
    assigned = bool(view.get("assigned"))
    resolved = assigned and bool(view.get("first_resolved_at"))
    visited = bool(view.get("satisfaction"))
    one = {
        "received": True,
        "answered_directly": bool(view.get("answered_directly")),
        "assigned": assigned,
        "accepted_on_time": assigned and bool(view.get("accepted_on_time")),
        "resolved": resolved,
        "resolved_on_time": resolved and bool(view.get("resolved_on_time")),
        "visited": visited,
        "solved": visited and bool(view.get("solved")),
        "satisfied": visited and view.get("satisfaction") != "dissatisfied",
        "reopened": resolved and bool(view.get("reopens")),
        "merged": bool(view.get("merged_into")),
    }
    return {name: 1 for name, counted in one.items() if counted}


def scope_counters(view: Mapping[str, Any]) -> Counters:
    """What one issue adds to each cell of its scope: rates, open, durations, channel."""
    out = {f"r:{name}": n for name, n in rate_counters(view).items()}
    if view.get("channel") is not None:
        out[f"channel:{escape(view['channel'])}"] = 1
    if view.get("open"):
        out["open"] = 1
        out[f"open_state:{escape(view.get('state'))}"] = 1
        out[f"open_level:{escape(view.get('level'))}"] = 1
        flags = view.get("flags") or {}
        out |= {f"open_flag:{flag}": 1 for flag in FLAGS if flags.get(flag)}
    for timed in ("accept", "resolve"):
        if (bucket := view.get(f"{timed}_bucket")) is not None:
            out[f"{timed}_b:{escape(bucket)}"] = 1
    return out


def unit_counters(view: Mapping[str, Any]) -> Counters:
    """Per office and per township: what the rankings and the overdue table need."""
    rated = rate_counters(view)
    out: Counters = {}
    units = []
    if view.get("assigned") and view.get("office_id"):
        units.append(f"o:{escape(view['office_id'])}")
    if view.get("township"):
        units.append(f"t:{escape(view['township'])}")
    for unit in units:
        out |= {f"{unit}:{name}": 1 for name in UNIT_FIELDS if rated.get(name)}
        out[f"{unit}:n"] = 1  # the unit has an issue (it ranks even with nothing rated)
    if view.get("office_id"):
        flags = view.get("flags") or {}
        office = escape(view["office_id"])
        out |= {f"o:{office}:{colour}": 1 for colour in ("yellow", "red") if flags.get(colour)}
        if view.get("office_name"):
            out[f"oname:{office}:{escape(view['office_name'])}"] = 1
    for code, name in zip(
        view.get("region_path") or (), view.get("region_names") or (), strict=False
    ):
        if name:
            out[f"rname:{escape(code)}:{escape(name)}"] = 1
    if view.get("township") and view.get("township_name"):
        out[f"tname:{escape(view['township'])}:{escape(view['township_name'])}"] = 1
    return out


def global_counters(view: Mapping[str, Any]) -> Counters:
    """What one issue adds to `/metrics` (labels bounded by the vocabularies)."""
    out: Counters = {}
    if day := view.get("reported_day"):
        out[f"month:{day[:7]}"] = 1  # the months with issues: an open-ended period's span
    if view.get("channel") is not None:
        pair = f"{bounded(view['channel'], Channel)}:{bounded(view.get('kind'), Kind)}"
        out[f"received:{pair}"] = 1
        if view.get("assigned"):
            out[f"assigned:{pair}"] = 1
    level = bounded(view.get("level"), Level)
    if view.get("open"):
        out[f"open:{bounded(view.get('state'), IssueState)}:{level}"] = 1
        flags = view.get("flags") or {}
        out |= {f"flagged:{flag}": 1 for flag in ("yellow", "red") if flags.get(flag)}
    for timed in ("accept", "resolve"):
        bucket = view.get(f"{timed}_bucket")
        if bucket is not None:
            out[f"{timed}:{level}:{escape(bucket)}"] = 1
            millis = round(float(view.get(f"hours_to_{timed}") or 0.0) * 1000)
            out[f"{timed}_ms:{level}"] = millis
    return out


def due_cells(view: Mapping[str, Any]) -> Cells:
    """Open issues whose clock's work is still to do, by when it falls due (UTC minute)."""
    out: Cells = {}
    if not view.get("open"):
        return out
    for clock, states in RUNNING.items():
        due = view.get(f"{clock}_due")
        if view.get("state") in states and isinstance(due, datetime):
            day, minute = due.date().isoformat(), due.strftime("%H%M")
            out.setdefault(f"Due|{clock}", {})[f"d:{day}"] = 1
            out.setdefault(f"Due|{clock}|{day}", {})[f"m:{minute}"] = 1
    return out


def contributions(view: Mapping[str, Any] | None) -> Cells:
    """Every cell this view counts in, and what it adds there (no zeros)."""
    if not view:
        return {}
    out: Cells = {}
    if day := view.get("reported_day"):
        per_scope = scope_counters(view)
        counters = per_scope | unit_counters(view)
        if view.get("office_id"):
            office = escape(view["office_id"])
            counters |= {f"o={office}|{name}": n for name, n in per_scope.items()}
        if view.get("category"):
            category = escape(view["category"])
            counters |= {f"c={category}|{name}": n for name, n in per_scope.items()}
        for grain, when in (("D", day), ("M", day[:7])):
            for region in (ALL, *region_keys(view)):
                out[cell_id(grain, when, region)] = counters  # one dict: see `grouped`
        if view.get("state") in UNSOLVED:
            unsolved = {f"u:{day}": 1}
            if view.get("office_id"):
                unsolved[f"o={escape(view['office_id'])}|u:{day}"] = 1
            if view.get("category"):
                unsolved[f"c={escape(view['category'])}|u:{day}"] = 1
            for region in (ALL, *region_keys(view)):
                out[f"U|{region}"] = unsolved
    if counted := global_counters(view):
        out[GLOBAL] = counted
    out |= due_cells(view)
    return {cell: counters for cell, counters in out.items() if counters}


def narrowed(
    counters: Mapping[str, int], office_id: str | None, category: str | None
) -> dict[str, int]:
    """A region cell's counters of one office's or one category's issues (the scope counters
    under `o=<office>|` or `c=<category>|`); both at once are not kept in cells."""
    if office_id is not None and category is not None:
        raise ValueError("cells keep an office's or a category's counters, not both at once")
    if office_id is None and category is None:
        return dict(counters)
    head = f"o={escape(office_id)}|" if office_id is not None else f"c={escape(category)}|"
    return {name[len(head) :]: n for name, n in counters.items() if name.startswith(head)}


def difference(old: Mapping[str, Mapping[str, int]], new: Mapping[str, Mapping[str, int]]) -> Cells:
    """What moves an issue's contribution from `old` to `new` (cells and counters non-zero)."""
    out: Cells = {}
    for cell in {*old, *new}:
        before, after = old.get(cell, {}), new.get(cell, {})
        moved = {c: after.get(c, 0) - before.get(c, 0) for c in {*before, *after}}
        if moved := {c: n for c, n in moved.items() if n}:
            out[cell] = moved
    return out


def nonzero(cells: Mapping[str, Mapping[str, int]]) -> Cells:
    """The cells without their zero counters (a moved contribution leaves zeros behind)."""
    kept = {cell: {c: n for c, n in counters.items() if n} for cell, counters in cells.items()}
    return {cell: counters for cell, counters in kept.items() if counters}


def add(total: Counters, more: Mapping[str, int]) -> None:
    """Add `more` to `total`; the names kept once in memory, however many sums hold them."""
    for name, n in more.items():
        total[intern(name)] = total.get(name, 0) + n


def summed(cells: Iterable[Mapping[str, int]]) -> Counters:
    total: Counters = {}
    for counters in cells:
        add(total, counters)
    return total


# --- reads: which cells, and the figures from their sum ---------------------------------


def periods_of(start: date, end: date) -> list[tuple[str, str]]:
    """The (grain, when) cells covering local days `start`…`end`: whole months as months."""
    out: list[tuple[str, str]] = []
    day = start
    while day <= end:
        first = day.replace(day=1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        if day == first and following.toordinal() - 1 <= end.toordinal():
            out.append(("M", first.isoformat()[:7]))
            day = following
        else:
            out.append(("D", day.isoformat()))
            day = date.fromordinal(day.toordinal() + 1)
    return out


def months_with_issues(global_counters: Mapping[str, int]) -> list[str]:
    return sorted(m for m, n in prefixed(global_counters, "month").items() if n)


def span(start: date | None, end: date | None, months: list[str]) -> tuple[date, date] | None:
    """An open end of a period closed by the first / last month with issues (None: empty)."""
    if start is not None and end is not None:
        return start, end
    if not months:
        return None
    first = date.fromisoformat(f"{months[0]}-01")
    year, month = int(months[-1][:4]), int(months[-1][5:])
    last = date.fromordinal(date(year + month // 12, month % 12 + 1, 1).toordinal() - 1)
    lo, hi = start or first, end or last
    return (lo, hi) if lo <= hi else None


def backlog_cell_ids(region_code: str | None) -> list[str]:
    return [f"U|{region}" for region in region_key_of(region_code)]


def scope_cell_ids(periods: Iterable[tuple[str, str]], region_code: str | None) -> list[str]:
    return [
        cell_id(grain, when, region)
        for grain, when in periods
        for region in region_key_of(region_code)
    ]


def rates_of(counters: Mapping[str, int]) -> Rates:
    return Rates(**{name: int(counters.get(f"r:{name}", 0)) for name in RATE_FIELDS})


def prefixed(counters: Mapping[str, int], prefix: str) -> dict[str, int]:
    """The counters named `<prefix>:<x>`, by (unescaped) `<x>`."""
    head = f"{prefix}:"
    return {unescape(name[len(head) :]): n for name, n in counters.items() if name.startswith(head)}


def units_of(counters: Mapping[str, int], kind: str) -> dict[str, dict[str, int]]:
    """Per unit (`o` offices, `t` townships): its counters (`n`, the UNIT_FIELDS, colours)."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    head = f"{kind}:"
    for name, n in counters.items():
        if name.startswith(head):
            unit, _, field = name[len(head) :].rpartition(":")
            out[unescape(unit)][field] = n
    return dict(out)


def unit_names(counters: Mapping[str, int], kind: str) -> dict[str, str]:
    """The names the issues gave their units (`oname` offices, `tname` townships)."""
    out: dict[str, str] = {}
    head = f"{kind}:"
    for name, n in sorted(counters.items()):
        if n > 0 and name.startswith(head):
            unit, _, given = name[len(head) :].partition(":")
            out[unescape(unit)] = unescape(given)
    return out


def unit_rates(counted: Mapping[str, int]) -> Rates:
    """A unit's Rates with the fields a ranking reads (the others zero)."""
    values = dict.fromkeys(RATE_FIELDS, 0) | {f: int(counted.get(f, 0)) for f in UNIT_FIELDS}
    return Rates(**values)


def grouped(cells: Mapping[str, Mapping[str, int]]) -> list[tuple[tuple[str, ...], dict[str, int]]]:
    """Cells with equal counters together (an issue adds the same to each of its region
    cells): (cell ids, counters) pairs, in a stable order."""
    groups: dict[tuple[tuple[str, int], ...], list[str]] = {}
    for cell, counters in cells.items():
        groups.setdefault(tuple(sorted(counters.items())), []).append(cell)
    return sorted((tuple(sorted(ids)), dict(key)) for key, ids in groups.items())


def as_list(cells: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """Cells as stored inside a fact document: a list of `{c: [cell ids], n: counters}`
    (cells with equal counters once; a cell key may hold dots, so not a map)."""
    return [{"c": list(ids), "n": counters} for ids, counters in grouped(cells)]


def from_list(stored: Iterable[Mapping[str, Any]] | None) -> Cells:
    out: Cells = {}
    for item in stored or ():
        counters = {k: int(v) for k, v in item["n"].items()}
        for cell in item["c"]:
            out[str(cell)] = dict(counters)
    return out
