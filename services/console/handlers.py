"""The console's use cases: a request from a page → the rules → the services' APIs and the
console's own store. The entrypoints render what these return."""

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from services.console.adapters.names import Names
from services.console.adapters.passwords import Passwords
from services.console.adapters.services import ApiRefused, Platform
from services.console.adapters.store import UserStore
from services.console.domain import citymap, paths
from services.console.domain import inbox as inbox_rules
from services.console.domain import trend as trend_rules
from services.console.domain.actions import ACTIONS, action_body
from services.console.domain.users import INTAKE_ROLE, Role, User, check_new_user

OPEN_STATES = ("triaged", "assigned", "accepted", "reopened")


class Console:
    def __init__(
        self, store: UserStore, platform: Platform, passwords: Passwords, session_hours: float
    ) -> None:
        self.store = store
        self.platform = platform
        self.passwords = passwords
        self.session_lifetime = timedelta(hours=session_hours)
        self.names = Names(platform)
        self._city: list[citymap.County] = []

    # sign-in and users ------------------------------------------------------------------

    async def sign_in(self, name: str, password: str) -> str | None:
        """A new session's id, or None (unknown user and wrong password alike)."""
        user = await self.store.user(name.strip())
        if user is None or not self.passwords.verify(user.password_hash, password):
            self.passwords.verify(_DUMMY, password)  # the same work either way
            return None
        return await self.store.open_session(user.name, self.session_lifetime)

    async def bootstrap_admin(self, name: str, password: str, token: str | None) -> None:
        """The first admin, from the settings (its password is reset to the setting's)."""
        admin = User(name=name, role=Role.ADMIN, display_name=name, token=token)
        await self.store.put_user(replace(admin, password_hash=self.passwords.hash(password)))

    async def add_user(self, admin: User, form: dict[str, str], key: str | None) -> User:
        """An admin adds a user; roles that act on intake get a principal of their own there
        (created with the admin's token), which the console keeps to act with."""
        role = Role(form.get("role", ""))
        name, password = form.get("name", "").strip(), form.get("password", "")
        office_id = form.get("office_id") or None
        check_new_user(name, password, role, office_id)
        token = None
        if (intake_role := INTAKE_ROLE[role]) is not None:
            body = {"role": intake_role, "name": form.get("display_name") or name}
            for field in ("office_id", "region_code", "level"):
                if form.get(field):
                    body[field] = form[field]
            created = await self.platform.call(
                "intake", "POST", "/principals", token=admin.token, json=body, key=key
            )
            token = str(created["token"])
        user = User(
            name=name, role=role, display_name=form.get("display_name") or name, token=token,
            office_id=office_id, region_code=form.get("region_code") or None,
            level=form.get("level") or None, password_hash=self.passwords.hash(password),
        )  # fmt: skip
        await self.store.put_user(user)
        return user

    # the operator desk -------------------------------------------------------------------

    async def catalogue(self) -> list[dict[str, Any]]:
        """The category items (id, names, keywords) from routing's rules."""
        return await self.names.load_catalogue()

    async def region(self, code: str | None) -> dict[str, Any]:
        path = paths.path("tree", code) if code else "/tree"
        result: dict[str, Any] = await self.platform.call("routing", "GET", path)
        return result

    async def file_report(self, user: User, form: dict[str, str], key: str | None) -> Any:
        body: dict[str, Any] = {
            "channel": form.get("channel"), "kind": form.get("kind"), "text": form.get("text", ""),
        }  # fmt: skip
        if form.get("category"):
            body["category"] = form["category"].split(" ", 1)[0]
        location = {f: form[f] for f in ("region_code", "address") if form.get(f)}
        if location:
            body["location"] = location
        if not form.get("anonymous"):
            if form.get("reporter_phone"):
                body["reporter_phone"] = form["reporter_phone"]
            if form.get("reporter_name"):
                body["reporter_name"] = form["reporter_name"]
        if form.get("direct_answer", "").strip():
            body["direct_answer"] = form["direct_answer"]
        return await self.platform.call(
            "intake", "POST", "/issues", token=user.token, json=body, key=key
        )

    async def nearby(self, category: str, region_code: str) -> list[dict[str, Any]]:
        """Open issues of this category in this region (likely duplicates), newest first,
        from reporting's problem list; at most 10."""
        rows: list[dict[str, Any]] = []
        for state in OPEN_STATES:
            params = {"category": category, "region_code": region_code, "state": state}
            answer = await self.platform.call("reporting", "GET", "/lists/problems", params=params)
            rows.extend(answer.get("rows", []) if isinstance(answer, dict) else answer or [])
        rows.sort(key=lambda row: str(row.get("reported_at") or ""), reverse=True)
        await self.names.learn({str(row["office_id"]) for row in rows[:10] if row.get("office_id")})
        return rows[:10]

    # the office --------------------------------------------------------------------------

    async def inbox(
        self, user: User, cursor: str | None, size: int, counted: bool = True
    ) -> tuple[list[inbox_rules.Row], str | None, str]:
        """A page of the office's inbox rows (after `cursor`), the next page's cursor (None on
        the last) and how many open issues in all ("" but on the first page, "200+" beyond
        intake's cap; `counted=False`: not asked), from intake's paged `/inbox/page`."""
        params: dict[str, Any] = {"limit": size, "total": counted}
        if cursor:
            params["cursor"] = cursor
        page = await self.platform.call(
            "intake", "GET", "/inbox/page", token=user.token, params=params
        )
        rows = inbox_rules.rows_of_page(page.get("items") or [])
        await self.names.learn({user.office_id} if user.office_id else set())
        total = page.get("total")
        shown = "" if total is None else f"{total}{'+' if page.get('total_capped') else ''}"
        return rows, page.get("next"), shown

    async def issue(self, user: User, issue_id: str) -> dict[str, Any]:
        """The status view with why routing sent it and its clocks (both best effort)."""
        view = await self.platform.call(
            "intake", "GET", paths.path("issues", issue_id), token=user.token
        )
        why, clocks = await asyncio.gather(
            self._optional("routing", paths.path("issues", issue_id, "routing")),
            self._optional("supervision", paths.path("issues", issue_id, "clocks")),
        )
        offices = {view.get("office_id"), *(view.get("co_office_ids") or [])} - {None}
        await self.names.learn({str(office) for office in offices})
        return {"view": view, "why": why, "clocks": clocks or []}

    async def act(
        self, user: User, issue_id: str, action: str, form: dict[str, str], key: str | None
    ) -> Any:
        if action not in ACTIONS:
            raise ApiRefused(404, f"no action {action}")
        return await self.platform.call(
            "intake", "POST", paths.path("issues", issue_id, action),
            token=user.token, json=action_body(action, form), key=key,
        )  # fmt: skip

    # the public page ---------------------------------------------------------------------

    async def lookup(self, code: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.platform.call(
            "intake", "GET", paths.path("receipts", code.strip().upper())
        )
        return result

    async def answer_visit(self, code: str, form: dict[str, str], key: str | None) -> Any:
        issue = await self.lookup(code)
        return await self.platform.call(
            "intake", "POST", paths.path("issues", issue["issue_id"], "visit"),
            receipt=code.strip().upper(), json=action_body("visit", form), key=key,
        )  # fmt: skip

    # supervision and the leaders ---------------------------------------------------------

    async def board(self, user: User, office_id: str | None = None) -> dict[str, Any]:
        """Overdue clocks within the user's region (and of one office, when asked), and the
        results to verify on the ground: resolved issues awaiting verification and return
        visits answered dissatisfied (from reporting's result list)."""
        params = {"region_code": user.region_code} if user.region_code else {}
        if office_id:
            params["office_id"] = office_id
        results = {"region_code": user.region_code} if user.region_code else {}
        if office_id:
            results["office_id"] = office_id
        overdue, open_, to_verify, *revisits = await asyncio.gather(
            self.platform.call("supervision", "GET", "/clocks/overdue", params=params or None),
            self.platform.call(
                "supervision", "GET", "/clocks/open", params={**params, "limit": 50}
            ),
            *(
                self._results({**results, "state": state})
                for state in ("resolved", "visited", "reopened")
            ),
        )
        unsatisfied = [
            row for rows in revisits for row in rows if row.get("satisfaction") == "dissatisfied"
        ]
        offices = {str(r["office_id"]) for r in [*to_verify, *unsatisfied] if r.get("office_id")}
        await self.names.learn((set(overdue.get("by_office") or {}) - {"-"}) | offices)
        return {"overdue": overdue, "open": open_, "to_verify": to_verify,
                "unsatisfied": unsatisfied}  # fmt: skip

    async def _results(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of reporting's result list (效果清单), first page; none if it does not answer."""
        try:
            answer = await self.platform.call(
                "reporting", "GET", "/lists/results", params={**params, "page_size": 50}
            )
        except ApiRefused:
            return []
        rows: list[dict[str, Any]] = answer.get("rows", []) if isinstance(answer, dict) else []
        return rows

    async def dashboard(self, on: date) -> dict[str, Any]:
        month = {"period": "month", "on": on.isoformat()}
        first = on.replace(day=1)
        days = [first + timedelta(days=n) for n in range((on - first).days + 1)]
        rates, rankings, townships, overdue, tree, *per_day = await asyncio.gather(
            self.platform.call("reporting", "GET", "/rates", params=month),
            self.platform.call(
                "reporting", "GET", "/rankings", params={**month, "subject": "office"}
            ),
            self.platform.call(
                "reporting", "GET", "/rankings", params={**month, "subject": "township"}
            ),
            self._optional("supervision", "/clocks/overdue"),
            self.city(),
            *(
                self.platform.call(
                    "reporting",
                    "GET",
                    "/rates",
                    params={"start": d.isoformat(), "end": d.isoformat()},
                )
                for d in days
            ),
        )
        await self.names.learn({str(row["id"]) for row in rankings.get("rows", [])[:20]})
        issues = {str(r["id"]): int(r.get("assigned") or 0) for r in townships.get("rows", [])}
        late = citymap.counted_by_township(
            [c.get("region_code") for c in (overdue or {}).get("clocks", [])]
        )
        return {
            "rates": rates, "rankings": rankings, "townships": townships,
            "trend": trend_rules.trend_of(list(zip(days, per_day, strict=True))),
            "maps": {"issues": citymap.lay_out(tree, issues),
                     "overdue": citymap.lay_out(tree, late)},
            "map_rows": _map_rows(tree, issues, late),
        }  # fmt: skip

    async def city(self) -> list[citymap.County]:
        """The counties and their townships (routing's tree), read once per process."""
        if not self._city:
            root = await self.platform.call("routing", "GET", "/tree")
            children = root.get("children") or []
            found = await asyncio.gather(
                *(
                    self.platform.call("routing", "GET", paths.path("tree", c["code"]))
                    for c in children
                )
            )
            self._city = [
                citymap.County(str(c["code"]), str(c["name"]), tuple(
                    citymap.Township(str(t["code"]), str(t["name"]))
                    for t in (county.get("children") or [])
                ))
                for c, county in zip(children, found, strict=True)
            ]  # fmt: skip
        return self._city

    async def _optional(self, service: str, path: str) -> Any:
        try:
            return await self.platform.call(service, "GET", path)
        except ApiRefused:
            return None


def _map_rows(
    tree: list[citymap.County], issues: dict[str, int], late: dict[str, int]
) -> list[tuple[str, str, int, int]]:
    """The maps' text alternative: county, township, issues, overdue (townships with any)."""
    return [
        (county.name, town.name, issues.get(town.code, 0), late.get(town.code, 0))
        for county in tree
        for town in county.townships
        if issues.get(town.code) or late.get(town.code)
    ]


_DUMMY = Passwords().hash("not a password anyone has")
