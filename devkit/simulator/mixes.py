"""What a simulated day is made of: the mixes of domain.md (channels, kinds, about half
answered directly, most reporters satisfied), the sample city's catalogue and regions,
each report's seeded plan (what its office and its reporter will do), and each office's
diligence (offices differ, so their rates and their ranking do). Pure: no I/O beyond
reading the city's configuration once.
"""

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devkit.infra import REPO

CITY = REPO / "deploy/config/city"

CHANNELS = {  # a county hotline's mix: most calls come by phone, then the online channels
    "hotline": 52, "miniapp": 12, "web": 8, "mailbox": 5, "grid": 11, "letter": 1,
    "visit": 3, "enterprise_visit": 4, "meeting": 2, "inspection": 2,
}  # fmt: skip
KINDS = {"consultation": 34, "complaint": 26, "help": 20, "report": 8, "suggestion": 8, "praise": 4}
ANSWERABLE = {"hotline", "web", "miniapp", "mailbox"}
"""Channels an operator answers on the spot (直办); the others always go to an office."""
DIRECT = {  # the share answered at intake by kind, on answerable channels (seed 003: 51.6% overall)
    "consultation": 0.97, "praise": 0.95, "suggestion": 0.7, "complaint": 0.55,
    "help": 0.55, "report": 0.35,
}  # fmt: skip
SATISFACTION = {"satisfied": 86, "basically_satisfied": 10, "dissatisfied": 4}  # seed 003: 96.4%
SOLVED = {"satisfied": 0.97, "basically_satisfied": 0.8, "dissatisfied": 0.15}
DILIGENCE = (0.55, 1.0)
"""An office's diligence, drawn once per office and seed: the share of its results that
leave the reporter as planned. The rest leave the problem unsolved; at the first visit, a
third of those leave the reporter dissatisfied (the issue is reopened and redone)."""

ASKS = {
    "consultation": "想咨询一下{topic}的办理流程和需要的材料",
    "complaint": "{place}{keyword}，已经好几天了，希望尽快处理",
    "help": "{place}{keyword}，请帮忙协调解决",
    "report": "举报：{place}{keyword}，请有关部门查处",
    "suggestion": "建议有关部门改进{topic}：{place}{keyword}",
    "praise": "表扬{topic}工作人员，{place}{keyword}的问题很快就处理好了",
}
RESULTS = ["已派人现场处理完毕", "已协调相关单位解决", "已按政策答复并办理", "已整改到位"]
RETURN_REASONS = ["该事项不属于本单位职责，建议转交属地", "经核实，应由上级主管部门办理"]
ANSWERS = ["已按政策当场解答", "已告知办理渠道和所需材料", "已记录并转达有关情况"]


@dataclass(frozen=True)
class Item:
    """One item of the catalogue."""

    id: str
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    township: str
    point: tuple[float, float] | None  # (lat, lon): the middle of its first grid


@dataclass(frozen=True)
class City:
    items: tuple[Item, ...]
    villages: tuple[Village, ...]

    @classmethod
    def load(cls, folder: Path = CITY) -> "City":
        catalogue = yaml.safe_load((folder / "categories.yaml").read_text(encoding="utf-8"))
        items = tuple(
            Item(i["id"], i["name"], tuple(i.get("keywords", ())))
            for group in catalogue["groups"]
            for i in group["items"]
            if i.get("keywords")
        )
        regions = yaml.load((folder / "regions.yaml").read_text(encoding="utf-8"), _Loader)
        villages = tuple(
            Village(v["code"], v["name"], t["name"], _middle(v.get("grids", [])))
            for county in regions["counties"]
            for t in county["townships"]
            for v in t["villages"]
        )
        return cls(items, villages)


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _middle(grids: list[dict[str, Any]]) -> tuple[float, float] | None:
    if not grids:
        return None
    lons = [p[0] for p in grids[0]["polygon"]]
    lats = [p[1] for p in grids[0]["polygon"]]
    return (round((min(lats) + max(lats)) / 2, 6), round((min(lons) + max(lons)) / 2, 6))


@dataclass(frozen=True)
class Plan:
    """What will happen to one report: its body, and what its office and reporter do."""

    n: int
    body: dict[str, Any]
    direct: bool
    miss_deadline: bool = False  # the office leaves it untouched until it is flagged
    abandoned: bool = False  # ... and then all day (never accepted: a response missed)
    returns: bool = False  # the office returns it once (退单)
    extension: int = 0  # working days the office asks for (延期), 0: none
    progress: bool = False
    verify: bool = False  # a supervisor checks the result on the ground
    satisfaction: tuple[str, ...] = field(default=("satisfied",))  # each visit's answer, in turn
    solved: tuple[bool, ...] = field(default=(True,))
    think: float = 0.0  # fraction of the compressed working time before each office step


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plan_report(seed: int, n: int, city: City, earlier: list["Plan"]) -> Plan:
    """The n-th report of the day; its own random stream, so a plan never depends on timing."""
    rng = random.Random(f"{seed}:{n}")
    repeat = [p for p in earlier if "latitude" in p.body["location"]]
    if repeat and rng.random() < 0.05:  # another call about a problem already reported (重复件)
        first = rng.choice(repeat)
        body = {**first.body, "channel": pick(rng, CHANNELS), "kind": "complaint"}
        body.pop("direct_answer", None)
        body["reporter_phone"] = _phone(rng)
        return _handling(rng, n, body)
    channel, kind = pick(rng, CHANNELS), pick(rng, KINDS)
    item, village = rng.choice(city.items), rng.choice(city.villages)
    keyword = rng.choice(item.keywords)
    place = f"{village.township}{village.name}"
    text = ASKS[kind].format(topic=item.name, place=place, keyword=keyword)
    location: dict[str, Any] = {"region_code": village.code, "address": f"{place}附近"}
    if village.point and rng.random() < 0.3:  # a point: a later report nearby may be merged
        location["latitude"], location["longitude"] = village.point
    body = {
        "channel": channel,
        "kind": kind,
        "text": text,
        "location": location,
        "reporter_type": _reporter_type(channel),
    }
    if rng.random() < 0.75:  # the operator picks the category; otherwise routing infers it
        body["category"] = item.id
    if rng.random() < 0.85:  # the rest are anonymous
        body["reporter_phone"] = _phone(rng)
    if channel in ANSWERABLE and rng.random() < DIRECT[kind]:
        body["direct_answer"] = rng.choice(ANSWERS)
        return Plan(n, body, True, **_visits(rng))
    return _handling(rng, n, body)


def _handling(rng: random.Random, n: int, body: dict[str, Any]) -> Plan:
    missed = rng.random() < 0.08
    return Plan(
        n, body, False,
        miss_deadline=missed,
        abandoned=missed and rng.random() < 0.5,
        returns=rng.random() < 0.07,
        extension=rng.choice([1, 2, 3, 5]) if rng.random() < 0.1 else 0,  # 5: a supervisor's
        progress=rng.random() < 0.25,
        verify=rng.random() < 0.15,
        think=rng.uniform(0.02, 0.08),
        **_visits(rng),
    )  # fmt: skip


def _visits(rng: random.Random) -> dict[str, Any]:
    """The reporter's answers, visit after visit: a dissatisfied one reopens the issue, and
    the next visit (after the issue is handled again) is mostly satisfied."""
    first = pick(rng, SATISFACTION)
    answers = [first] if first != "dissatisfied" else [first, pick(rng, SATISFACTION)]
    if answers[-1] == "dissatisfied":
        answers.append("basically_satisfied")
    return {
        "satisfaction": tuple(answers),
        "solved": tuple(rng.random() < SOLVED[a] for a in answers),
    }


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def _reporter_type(channel: str) -> str:
    return {"grid": "grid_worker", "enterprise_visit": "enterprise", "inspection": "cadre"}.get(
        channel, "citizen"
    )


def diligence(seed: int, office_id: str) -> float:
    """How well `office_id` works on the days of `seed` (see DILIGENCE)."""
    return round(random.Random(f"{seed}:office:{office_id}").uniform(*DILIGENCE), 2)


def answer(
    seed: int, plan: Plan, turn: int, care: float = 1.0, last: bool = False
) -> tuple[str, bool]:
    """The reporter's answer (satisfaction, solved) at visit `turn` (0: the first) of an
    issue whose result came from an office of diligence `care` (1.0: as planned; an answer
    at intake or of a merged report is as planned). The last visit (`last`: the plan's last
    answer) is never dissatisfied, and care never makes a later visit dissatisfied: a
    reopened issue is redone once, not forever."""
    at = len(plan.satisfaction) - 1 if last else min(turn, len(plan.satisfaction) - 1)
    satisfaction, solved = plan.satisfaction[at], plan.solved[at]
    draw = random.Random(f"{seed}:{plan.n}:visit:{turn}").random()
    if draw >= 1 - care:
        return satisfaction, solved
    if turn == 0 and not last and draw < (1 - care) / 3:
        return "dissatisfied", False
    return ("basically_satisfied" if satisfaction == "satisfied" else satisfaction), False
