"""The console's own MongoDB database: its users and their sessions (both by `_id`)."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from services.console.adapters.sealing import TokenSeal
from services.console.domain.users import Role, User
from services.runtime.mongo import Document


class UserStore(Protocol):
    async def user(self, name: str) -> User | None: ...
    async def users(self) -> list[User]: ...
    async def put_user(self, user: User) -> None: ...
    async def open_session(self, name: str, lifetime: timedelta) -> str: ...
    async def session_user(self, session_id: str) -> User | None: ...
    async def close_session(self, session_id: str) -> None: ...


def _key(session_id: str) -> str:
    """Sessions are stored by a hash of their id: a copy of the database opens none."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class MongoUserStore:
    def __init__(self, db: AsyncDatabase[Document], seal: TokenSeal) -> None:
        self._users = db["users"]
        self._sessions = db["sessions"]
        self._seal = seal

    async def user(self, name: str) -> User | None:
        doc = await self._users.find_one({"_id": name})
        return self._user(doc) if doc else None

    async def users(self) -> list[User]:
        return [self._user(doc) async for doc in self._users.find({}).sort("_id", 1)]

    async def put_user(self, user: User) -> None:
        fields = {
            "role": user.role.value, "display_name": user.display_name,
            "token": self._seal.seal(user.token) if user.token else None,
            "office_id": user.office_id, "region_code": user.region_code, "level": user.level,
            "password_hash": user.password_hash,
        }  # fmt: skip
        await self._users.update_one({"_id": user.name}, {"$set": fields}, upsert=True)

    async def open_session(self, name: str, lifetime: timedelta) -> str:
        session_id = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + lifetime
        await self._sessions.insert_one({"_id": _key(session_id), "user": name, "expires": expires})
        return session_id

    async def session_user(self, session_id: str) -> User | None:
        doc = await self._sessions.find_one({"_id": _key(session_id)})
        if doc is None:
            return None
        expires = doc["expires"]
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires < datetime.now(UTC):
            await self.close_session(session_id)
            return None
        return await self.user(str(doc["user"]))

    async def close_session(self, session_id: str) -> None:
        await self._sessions.delete_one({"_id": _key(session_id)})

    def _user(self, doc: dict[str, Any]) -> User:
        sealed = doc.get("token")
        return User(
            name=str(doc["_id"]), role=Role(doc["role"]),
            display_name=doc.get("display_name") or "",
            token=self._seal.unseal(sealed) if sealed else None,
            office_id=doc.get("office_id"), region_code=doc.get("region_code"),
            level=doc.get("level"), password_hash=doc.get("password_hash") or "",
        )  # fmt: skip
