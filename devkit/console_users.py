"""Add the console's users through its own pages, as an admin would (sign in, fill the form):
`make run` adds one demo user per role this way."""

import re

import httpx

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class ConsoleAdmin:
    """A signed-in admin session on the console at `url`."""

    def __init__(self, url: str, password: str, name: str = "admin") -> None:
        self.client = httpx.Client(base_url=url, timeout=20, follow_redirects=False)
        page = self.client.get("/login")
        answer = self.client.post(
            "/login", data={"name": name, "password": password, "csrf": _csrf(page.text)}
        )
        if answer.status_code != 303:
            raise RuntimeError(f"the console refused the admin's sign-in ({answer.status_code})")

    def add_user(self, name: str, password: str, role: str, **binding: str) -> None:
        page = self.client.get("/admin/users")
        form = {"name": name, "password": password, "role": role, "display_name": name,
                "csrf": _csrf(page.text), **binding}  # fmt: skip
        answer = self.client.post("/admin/users", data=form)
        if answer.status_code != 200:
            raise RuntimeError(f"the console did not add {name}: {answer.status_code}")

    def close(self) -> None:
        self.client.close()


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token on the console's page")
    return found.group(1)
