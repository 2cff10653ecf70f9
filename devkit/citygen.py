"""A deterministic generator of cities of any size: the sample city in deploy/config/city
and far larger trees for benchmarks and property tests.

The tree tiles the city's bounding box: counties split it into rectangles, townships
split their county, villages their township and grids their village, so every point of
the box lies in exactly one grid (or on a border two grids share). Every region of a
level gets one office of each kind that exists at that level (`office_coverage` < 1
leaves some out below the city, to exercise climbing). The same spec and seed always
give the same city.

    uv run python -m devkit.citygen                  # rewrite the sample city
    uv run python -m devkit.citygen --villages 100000 --out /tmp/big
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.contracts.vocabulary import Level
from services.routing.adapters.city_files import SECTION_FILES, check_city_config, load_rules
from services.routing.domain.city import CityConfig, CityRegion, CityRules, walk_regions

SAMPLE = Path(__file__).resolve().parents[1] / "deploy/config/city"
Box = tuple[float, float, float, float]  # west, south, east, north (degrees)

_FIRST = "东西南北中新安康永兴福寿金银青白清平和丰乐华宏嘉瑞祥泰盛德仁文明光长高上前后"
_SECOND = "阳城山川水河湖泉林园桥岭坡岗寨庄店集湾沟塘坪口堡洼台屯营"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华建国红梅玉兰志"
_TRADES = ("机械", "食品", "纺织", "新材料", "电子", "建材", "物流", "医药", "汽车配件", "耐材")


@dataclass(frozen=True)
class CitySpec:
    seed: int = 4101
    code: str = "411900"
    name: str = "中州市"
    name_en: str = "Zhongzhou"
    counties: int = 6
    townships: int = 100
    villages: int = 2000
    grids_per_village: tuple[int, int] = (1, 4)
    enterprises: int = 400
    bbox: Box = (113.30, 34.50, 113.95, 34.95)
    office_coverage: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.counties <= 99:
            raise ValueError("counties: between 1 and 99 (two digits of the code)")
        if not self.counties <= self.townships <= 999 * self.counties:
            raise ValueError("townships: at least one per county, at most 999")
        if not self.townships <= self.villages <= 999 * self.townships:
            raise ValueError("villages: at least one per township, at most 999")
        low, high = self.grids_per_village
        if not 0 <= low <= high <= 999:
            raise ValueError("grids_per_village: 0 <= low <= high <= 999")


def generate_city(spec: CitySpec, rules: CityRules) -> CityConfig:
    """The city of `spec` under `rules`, validated and cross-checked."""
    rng = random.Random(spec.seed)
    tree = CityRegion.model_validate(_tree(spec, rng))
    offices = _offices(spec, rules, tree, rng)
    enterprises = _enterprises(spec, tree, {office["id"] for office in offices}, rng)
    data = {**rules.model_dump(), "regions": tree}
    config = CityConfig.model_validate({**data, "offices": offices, "enterprises": enterprises})
    return check_city_config(config)


# --- the tree


def _tree(spec: CitySpec, rng: random.Random) -> dict[str, Any]:
    townships = _spread(spec.townships, spec.counties, rng)
    villages = _spread(spec.villages, spec.townships, rng)
    city: dict[str, Any] = {"code": spec.code, "name": spec.name, "name_en": spec.name_en}
    city["counties"] = []
    t_index = 0
    districts = max(1, spec.counties // 2)
    for c, county_box in enumerate(_tile(spec.bbox, spec.counties, rng)):
        kind = "district" if c < districts else rng.choice(("county", "county_city"))
        suffix = {"district": "区", "county": "县", "county_city": "市"}[kind]
        county = _region(f"{spec.code[:4]}{c + 1:02d}", _name(rng) + suffix, kind)
        county["townships"] = []
        for t, town_box in enumerate(_tile(county_box, townships[c], rng)):
            town_kind = "street" if kind == "district" and rng.random() < 0.8 else "town"
            if town_kind == "town" and rng.random() < 0.3:
                town_kind = "township"
            town_suffix = {"street": "街道", "town": "镇", "township": "乡"}[town_kind]
            town = _region(f"{county['code']}{t + 1:03d}", _name(rng) + town_suffix, town_kind)
            town["villages"] = []
            for v, village_box in enumerate(_tile(town_box, villages[t_index], rng)):
                urban = town_kind == "street" or rng.random() < 0.1
                village = _region(
                    f"{town['code']}{v + 1:03d}",
                    _name(rng) + ("社区" if urban else "村"),
                    "community" if urban else "village",
                )
                grids = rng.randint(*spec.grids_per_village)
                village["grids"] = [
                    {
                        "code": f"{village['code']}{g + 1:03d}",
                        "name": f"第{g + 1}网格",
                        "polygon": _ring(box),
                    }
                    for g, box in enumerate(_tile(village_box, grids, rng) if grids else [])
                ]
                town["villages"].append(village)
            t_index += 1
            county["townships"].append(town)
        city["counties"].append(county)
    return city


def _region(code: str, name: str, kind: str) -> dict[str, Any]:
    return {"code": code, "name": name, "kind": kind}


def _name(rng: random.Random) -> str:
    return rng.choice(_FIRST) + rng.choice(_SECOND)


def _spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` counts of at least one, unevenly, none above 999."""
    counts = [1] * parts
    for index in rng.choices(range(parts), k=total - parts):
        counts[index] += 1
    while max(counts) > 999:  # only for extreme specs: even out the largest
        big, small = counts.index(max(counts)), counts.index(min(counts))
        counts[big], counts[small] = counts[big] - 1, counts[small] + 1
    return counts


def _tile(box: Box, n: int, rng: random.Random) -> list[Box]:
    """`n` rectangles that tile `box` exactly: rows of near-square cells, jittered."""
    west, south, east, north = box
    width = (east - west) * math.cos(math.radians((south + north) / 2))
    rows = max(1, min(n, round(math.sqrt(n * (north - south) / width))))
    base, extra = divmod(n, rows)
    counts = [base + (1 if row < extra else 0) for row in range(rows)]
    ys = _cuts(south, north, counts, rng)
    boxes: list[Box] = []
    for row, count in enumerate(counts):
        xs = _cuts(west, east, [1] * count, rng)
        boxes += [(xs[i], ys[row], xs[i + 1], ys[row + 1]) for i in range(count)]
    return boxes


def _cuts(low: float, high: float, weights: Sequence[int], rng: random.Random) -> list[float]:
    jittered = [weight * rng.uniform(0.75, 1.25) for weight in weights]
    total, running, cuts = sum(jittered), 0.0, [low]
    for weight in jittered[:-1]:
        running += weight
        cuts.append(round(low + (high - low) * running / total, 6))
    cuts.append(high)
    if any(b <= a for a, b in itertools.pairwise(cuts)):
        raise ValueError("the tree is too fine for coordinates of 6 decimals: enlarge bbox")
    return cuts


def _ring(box: Box) -> list[list[float]]:
    west, south, east, north = box
    return [[west, south], [east, south], [east, north], [west, north]]


# --- offices and enterprises


def _offices(
    spec: CitySpec, rules: CityRules, tree: CityRegion, rng: random.Random
) -> list[dict[str, Any]]:
    offices: list[dict[str, Any]] = []
    for row in walk_regions(tree):
        for kind_id, kind in rules.office_kinds.items():
            if row.level not in kind.levels:
                continue
            if row.level is not Level.CITY and rng.random() >= spec.office_coverage:
                continue
            name = row.name + kind.names.get(row.kind, kind.name)
            offices.append({"id": f"{row.code}-{kind_id}", "name": name, "kind": kind_id})
            offices[-1]["region"] = row.code
    return offices


def _enterprises(
    spec: CitySpec, tree: CityRegion, offices: set[str], rng: random.Random
) -> list[dict[str, Any]]:
    parents = {row.code: row.parent for row in walk_regions(tree)}
    places = [row for row in walk_regions(tree) if row.level is Level.VILLAGE]
    found: list[dict[str, Any]] = []
    for number in range(1, spec.enterprises + 1):
        place = rng.choice(places)
        town = place.parent or ""
        county = parents[town] or ""
        name = f"{spec.name[:2]}{_name(rng)}{rng.choice(_TRADES)}有限公司"
        enterprise: dict[str, Any] = {"id": f"ent-{number:06d}", "name": name}
        enterprise["region"] = place.code
        choices = [f"{town}-township_office"] + [
            f"{county}-{kind}" for kind in ("industry", "commerce", "development_reform")
        ]
        present = [office for office in choices if office in offices]
        if present and rng.random() < 0.9:
            person = rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2)))
            enterprise["cadre"] = {"name": person, "office": rng.choice(present)}
        found.append(enterprise)
    return found


# --- files


class _Flow(dict[str, Any]):
    """A mapping written on one line."""


class _Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
    """libyaml's emitter when present: the same text, many times faster."""


def _flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_Flow, _flow)


def write_city(config: CityConfig, directory: Path, header: str) -> list[Path]:
    """Write the generated sections (tree, offices, enterprises) into `directory`."""
    regions = config.regions.model_dump(mode="json", exclude_none=True)
    for county in regions["counties"]:
        for town in county["townships"]:
            for village in town["villages"]:
                village["grids"] = [_Flow(grid) for grid in village["grids"]]
    sections: dict[str, Any] = {
        "regions": regions,
        "offices": [_Flow(o.model_dump(mode="json")) for o in config.offices],
        "enterprises": [
            _Flow(e.model_dump(mode="json", exclude_none=True)) for e in config.enterprises
        ],
    }
    written = []
    for section, data in sections.items():
        path = directory / SECTION_FILES[section]
        text = yaml.dump(
            data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096, indent=2
        )
        path.write_text(f"{header}\n{text}", encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    default = CitySpec()
    parser = argparse.ArgumentParser(prog="python -m devkit.citygen")
    parser.add_argument("--out", type=Path, default=SAMPLE, help="where to write the city")
    parser.add_argument("--rules", type=Path, default=SAMPLE, help="the hand-written rules")
    for field in ("seed", "counties", "townships", "villages", "enterprises"):
        parser.add_argument(f"--{field}", type=int, default=getattr(default, field))
    args = parser.parse_args(argv)
    spec = CitySpec(
        seed=args.seed,
        counties=args.counties,
        townships=args.townships,
        villages=args.villages,
        enterprises=args.enterprises,
    )
    config = generate_city(spec, load_rules(args.rules))
    args.out.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Generated by `python -m devkit.citygen --seed {spec.seed} "
        f"--counties {spec.counties} --townships {spec.townships} --villages {spec.villages} "
        f"--enterprises {spec.enterprises}`.\n# Do not edit by hand: regenerate."
    )
    for path in write_city(config, args.out, header):
        print(f"{path}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
