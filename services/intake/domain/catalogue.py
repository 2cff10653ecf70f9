"""The category catalogue as intake offers it (Open311's services). The catalogue is the
city's configuration (`deploy/config/city/categories.yaml`), the same file routing judges
with; intake reads only what it shows (`adapters/catalogue.py` loads it). Pure."""

from pydantic import BaseModel, ConfigDict


class Item(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    name_en: str
    keywords: tuple[str, ...] = ()


class Group(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    name_en: str
    items: tuple[Item, ...]


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    groups: tuple[Group, ...]

    def item(self, code: str) -> tuple[Group, Item] | None:
        for group, item in self.items():
            if item.id == code:
                return group, item
        return None

    def items(self) -> list[tuple[Group, Item]]:
        return [(group, item) for group in self.groups for item in group.items]
