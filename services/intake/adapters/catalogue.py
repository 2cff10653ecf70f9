"""The category catalogue, read from the city's configuration file."""

from pathlib import Path

import yaml

from services.intake.domain.catalogue import Catalogue


def load_catalogue(path: Path) -> Catalogue:
    return Catalogue.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
