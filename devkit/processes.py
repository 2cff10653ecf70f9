"""The four services as OS processes (`python -m services.<name>`), on free loopback ports."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devkit.http import TLS
from devkit.infra import REPO, Endpoints

SERVICES = ("intake", "routing", "supervision", "reporting", "notify")
CONSOLE = "console"  # the web console: HTTP only, started beside them when asked for


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct free loopback ports: every socket is held until all are bound, so the
    kernel cannot hand the same port out twice (one released port could come back)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, f"HUIYIN_{self.name.upper()}_PORT": str(self.port)}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2, verify=TLS).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not healthy after {timeout} s; see {self.log_path}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@dataclass
class Platform:
    """The four services, sharing one namespace of topics and databases."""

    endpoints: Endpoints
    namespace: str
    log_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    console: bool = False
    console_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    notify_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    """notify's token at intake's internal contact endpoint (both are given it)."""

    def __post_init__(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **self.endpoints.env(),
            "HUIYIN_TOPIC_PREFIX": f"{self.namespace}." if self.namespace else "",
            "HUIYIN_DATABASE_PREFIX": f"{self.namespace}_" if self.namespace else "huiyin_",
            "HUIYIN_INTAKE_ADMIN_TOKEN": self.admin_token,
            "HUIYIN_INTAKE_NOTIFY_TOKEN": self.notify_token,
            "HUIYIN_NOTIFY_INTAKE_TOKEN": self.notify_token,
            **self.extra_env,
        }
        spare = iter(free_ports(len(SERVICES) + 1))
        for name in SERVICES:
            port = int(self.extra_env.get(f"HUIYIN_{name.upper()}_PORT", 0)) or next(spare)
            self.services[name] = ServiceProcess(name, port, env, self.log_dir / f"{name}.log")
        if self.console:
            port = int(self.extra_env.get("HUIYIN_CONSOLE_PORT", 0)) or next(spare)
            talks_to = ("intake", "routing", "supervision", "reporting")
            urls = {f"HUIYIN_CONSOLE_{name.upper()}_URL": self[name].url for name in talks_to}
            admin = {
                "HUIYIN_CONSOLE_ADMIN_PASSWORD": self.console_password,
                "HUIYIN_CONSOLE_ADMIN_TOKEN": self.admin_token,
            }
            self.services[CONSOLE] = ServiceProcess(
                CONSOLE, port, {**env, **urls, **admin}, self.log_dir / "console.log"
            )
        # notify asks intake for reporters' contacts, where this platform's intake listens
        intake_url = {"HUIYIN_NOTIFY_INTAKE_URL": self.services["intake"].url}
        self.services["notify"].env = {**intake_url, **env}

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def start(self) -> "Platform":
        """Start the four services and wait until each is healthy; if one is not, stop
        them all (none is left running) and raise."""
        try:
            for service in self.services.values():
                service.start()
            for service in self.services.values():
                service.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def token(self, role: str, **binding: str) -> str:
        """A new principal's token (the admin adds it through intake's API)."""
        response = httpx.post(
            f"{self['intake'].url}/principals",
            json={"role": role, "name": f"{role} for tests", **binding},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10,
            verify=TLS,
        )
        response.raise_for_status()
        return str(response.json()["token"])
