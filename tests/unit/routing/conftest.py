"""The sample city, loaded once for the whole folder, and a small city to break."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.citygen import SAMPLE, CitySpec, generate_city, write_city
from services.routing.adapters.city_files import RULE_SECTIONS, SECTION_FILES, load_city, load_rules
from services.routing.domain.city import CityRules
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex


@pytest.fixture(scope="session")
def rules() -> CityRules:
    return load_rules(SAMPLE)


@pytest.fixture(scope="session")
def city() -> City:
    return load_city(SAMPLE)


@pytest.fixture(scope="session")
def grids(city: City) -> GridIndex:
    return GridIndex.of(city)


@pytest.fixture
def small_city_dir(tmp_path: Path, rules: CityRules) -> Iterator[Path]:
    """A freshly written small city (2 counties, 4 townships, 12 villages) to break."""
    spec = CitySpec(counties=2, townships=4, villages=12, enterprises=5, grids_per_village=(1, 2))
    for section in RULE_SECTIONS:
        shutil.copy(SAMPLE / SECTION_FILES[section], tmp_path / SECTION_FILES[section])
    write_city(generate_city(spec, rules), tmp_path, "# a small test city")
    yield tmp_path
