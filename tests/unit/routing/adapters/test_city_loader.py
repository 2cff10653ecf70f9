"""The sample city loads; a broken one is refused with its file, line and field."""

import re
from pathlib import Path

import pytest

from devkit.citygen import SAMPLE
from services.contracts.vocabulary import Level
from services.routing.adapters.city_files import load_city_config, load_rules
from services.routing.adapters.config_source import ConfigError, Problem
from services.routing.domain.jurisdiction import City


def test_the_sample_city_has_the_size_of_the_seeds(city: City) -> None:
    levels = [region.level for region in city.regions()]
    assert levels.count(Level.CITY) == 1
    assert levels.count(Level.COUNTY) == 6
    assert levels.count(Level.TOWNSHIP) == 100
    assert levels.count(Level.VILLAGE) == 2000
    assert levels.count(Level.GRID) > 2000
    groups = city.config.categories.groups
    assert len(groups) == 8
    assert 45 <= sum(len(group.items) for group in groups) <= 60
    types = {office.type for office in city.offices()}
    assert {"center", "government", "department", "committee", "working_group"} <= types
    assert sum(1 for e in city.enterprises() if e.cadre is not None) > 300


def test_every_category_has_chinese_and_english_names(city: City) -> None:
    for category in city.categories():
        assert re.search(r"[\u4e00-\u9fff]", category.name)
        assert category.name_en.isascii()


def test_the_rules_load_alone() -> None:
    rules = load_rules(SAMPLE)
    assert rules.policy.dispatch.returns_to_climb == 2


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def replace_once(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in the file; the line it was on."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    line = line_of(path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def refused(directory: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as error:
        load_city_config(directory)
    return list(error.value.problems)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_an_unknown_office_kind_names_file_line_and_field(small_city_dir: Path) -> None:
    offices = small_city_dir / "offices.yaml"
    line = replace_once(offices, "kind: water_affairs", "kind: water_afairs")
    problem = only(refused(small_city_dir))
    assert (problem.file.name, problem.line) == ("offices.yaml", line)
    assert re.fullmatch(r"offices\[\d+\]\.kind", problem.field)
    assert "unknown office kind 'water_afairs'" in problem.message
    assert str(problem).startswith(f"{offices}:{line}:")


def test_a_misspelt_level_points_at_the_key(small_city_dir: Path) -> None:
    path = small_city_dir / "responsibility.yaml"
    line = replace_once(path, "sanitation: {village:", "sanitation: {villag:")
    problem = only(refused(small_city_dir))
    assert (problem.file.name, problem.line) == ("responsibility.yaml", line)
    assert problem.field == "responsibility.duties.sanitation.villag[key]"


def test_a_self_crossing_grid_is_refused_at_its_line(small_city_dir: Path) -> None:
    path = small_city_dir / "regions.yaml"
    text = path.read_text(encoding="utf-8")
    first = re.search(r"polygon: (\[\[.*?\]\])\}", text)
    assert first is not None
    bowtie = "[[113.3, 34.5], [113.4, 34.6], [113.4, 34.5], [113.3, 34.6]]"
    line = replace_once(path, first.group(1), bowtie)
    problem = only(refused(small_city_dir))
    assert (problem.file.name, problem.line) == ("regions.yaml", line)
    assert problem.field.endswith("villages[0].grids[0].polygon")
    assert "not a simple polygon" in problem.message


def test_a_missing_field_points_at_its_mapping(small_city_dir: Path) -> None:
    path = small_city_dir / "categories.yaml"
    line = replace_once(path, ", name_en: Street lighting", "")
    problem = only(refused(small_city_dir))
    assert (problem.file.name, problem.line) == ("categories.yaml", line)
    assert problem.field == "categories.groups[0].items[0].name_en"
    assert problem.message == "Field required"


def test_a_number_out_of_range_names_the_value(small_city_dir: Path) -> None:
    path = small_city_dir / "policy.yaml"
    line = replace_once(path, "returns_to_climb: 2", "returns_to_climb: 0")
    problem = only(refused(small_city_dir))
    assert (problem.file.name, problem.line, problem.column) == ("policy.yaml", line, 21)
    assert problem.field == "policy.dispatch.returns_to_climb"
    assert "greater than or equal to 1" in problem.message and "(got 0)" in problem.message


def test_a_duplicate_key_is_refused(small_city_dir: Path) -> None:
    path = small_city_dir / "policy.yaml"
    line = replace_once(
        path, "  reopens_to_climb: 2", "  reopens_to_climb: 2\n  returns_to_climb: 3"
    )
    problem = only(refused(small_city_dir))
    assert (problem.file.name, problem.line) == ("policy.yaml", line + 1)
    assert problem.field == "policy.dispatch.returns_to_climb"
    assert "duplicate key" in problem.message


def test_broken_yaml_names_the_line(small_city_dir: Path) -> None:
    path = small_city_dir / "office_kinds.yaml"
    line = replace_once(path, "levels: [township], type: department}", "levels: [township, type")
    problem = only(refused(small_city_dir))
    assert problem.file.name == "office_kinds.yaml"
    assert problem.line is not None and line <= problem.line <= line + 1


def test_a_cadre_outside_the_enterprise_region_is_refused(small_city_dir: Path) -> None:
    path = small_city_dir / "enterprises.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(
        n for n, line in enumerate(lines) if "region: '411901" in line and "cadre:" in line
    )
    lines[number] = re.sub(r"office: [\w.-]+", "office: 411902-industry", lines[number])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = only(refused(small_city_dir))
    assert (problem.file.name, problem.line) == ("enterprises.yaml", number + 1)
    assert re.fullmatch(r"enterprises\[\d+\]\.cadre\.office", problem.field)
    assert "neither in nor above the enterprise's region" in problem.message


def test_every_problem_is_reported_at_once(small_city_dir: Path) -> None:
    replace_once(small_city_dir / "offices.yaml", "kind: water_affairs", "kind: nothing")
    replace_once(small_city_dir / "offices.yaml", "region: '411901'", "region: '999999'")
    problems = refused(small_city_dir)
    assert {p.field.split(".")[-1] for p in problems} == {"kind", "region"}
    assert all(p.file.name == "offices.yaml" and p.line for p in problems)


def test_a_missing_file_is_named(small_city_dir: Path) -> None:
    (small_city_dir / "offices.yaml").unlink()
    problem = only(refused(small_city_dir))
    assert problem.file.name == "offices.yaml" and problem.message == "missing file"
