"""The version of a projection's derivation, recorded in the service's own database.

A service declares, per projection, the version of the rules that derive it from the log
(raise it when a change would derive different documents from the same events). At start
it asks `projection_status`: a projection recorded under another version (or never
recorded, on a database that already holds documents) is stale and must be rebuilt from
the log, or not served. After a rebuild, `record_projection` writes the new version.

The record is one document per projection in the database's `meta` collection:
`{"_id": "projection:<name>", "version": 3, "recorded_at": …}`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from services.runtime.mongo import Document

META = "meta"


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    declared: int
    recorded: int | None
    """None: this database never recorded a version of the projection."""

    @property
    def changed(self) -> bool:
        """The derivation differs from the one that built the stored documents."""
        return self.recorded != self.declared


async def projection_status(
    db: AsyncDatabase[Document], name: str, declared: int
) -> ProjectionStatus:
    found = await db[META].find_one({"_id": f"projection:{name}"})
    recorded = None if found is None else int(found["version"])
    return ProjectionStatus(name, declared, recorded)


async def record_projection(db: AsyncDatabase[Document], name: str, version: int) -> None:
    """The projection is now derived by `version` (after a rebuild, or on a new database)."""
    await db[META].update_one(
        {"_id": f"projection:{name}"},
        {"$set": {"version": version, "recorded_at": datetime.now(UTC)}},
        upsert=True,
    )
