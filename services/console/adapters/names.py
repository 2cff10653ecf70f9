"""Names for the ids the services answer with: categories (routing's catalogue, both
languages) and offices (routing's /offices/{id}); read once, kept for the process."""

import contextlib
from typing import Any

from services.console.adapters.services import ApiRefused, Platform
from services.console.domain.paths import path


class Names:
    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._categories: dict[str, tuple[str, str]] = {}
        self._offices: dict[str, str] = {}
        self.catalogue: list[dict[str, Any]] = []

    async def load_catalogue(self) -> list[dict[str, Any]]:
        if not self.catalogue:
            rules = await self._platform.call("routing", "GET", "/rules")
            for group in rules["categories"].get("groups", []):
                for item in group.get("items", []):
                    self.catalogue.append({**item, "group": group.get("name", "")})
                    names = (item.get("name") or item["id"], item.get("name_en") or item["id"])
                    self._categories[item["id"]] = names
        return self.catalogue

    async def learn(self, office_ids: set[str]) -> None:
        """Read the names of offices not known yet (best effort: an id stays an id)."""
        with contextlib.suppress(ApiRefused):
            await self.load_catalogue()
        for office_id in office_ids - self._offices.keys():
            try:
                office = await self._platform.call("routing", "GET", path("offices", office_id))
            except ApiRefused:
                continue
            self._offices[office_id] = str(office.get("name") or office_id)

    def category(self, category_id: str | None, lang: str) -> str:
        if not category_id:
            return ""
        names = self._categories.get(category_id)
        return (names[0] if lang == "zh-CN" else names[1]) if names else category_id

    def office(self, office_id: str | None) -> str:
        if not office_id:
            return ""
        return self._offices.get(office_id, office_id)
