"""A real Prometheus server (Debian's `prometheus` package) scraping services on this machine.

The configuration is deploy/prometheus/prometheus.yml with its DNS-discovered compose targets
swapped for static loopback ones, and its rules loaded from the repository.
"""

import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from devkit.http import TLS
from devkit.infra import REPO
from devkit.processes import free_port

CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"


def local_config(targets: Mapping[str, str], interval: str = "1s") -> dict[str, Any]:
    """prometheus.yml with `targets` (service name → host:port) instead of compose's names."""
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["global"] |= {"scrape_interval": interval, "evaluation_interval": interval}
    config["rule_files"] = [str(CONFIG.parent / pattern) for pattern in config["rule_files"]]
    [job] = config["scrape_configs"]
    del job["dns_sd_configs"], job["relabel_configs"]
    job["static_configs"] = [
        {"targets": [address], "labels": {"service": name}} for name, address in targets.items()
    ]
    return config


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: run `make prometheus-tools` (Debian's prometheus)")
    return found


@dataclass
class PrometheusServer:
    """`prometheus` on a free loopback port, its data and log under `workdir`."""

    workdir: Path
    targets: Mapping[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "PrometheusServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(local_config(self.targets)), encoding="utf-8")
        self.port = self.port or free_port()
        log = (self.workdir / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited; see {self.workdir / 'prometheus.log'}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2, verify=TLS).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"prometheus not ready after {timeout} s")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result (a vector's samples); raises on a query error."""
        response = httpx.get(
            f"{self.url}/api/v1/query", params={"query": promql}, timeout=10, verify=TLS
        )
        body = response.json()
        if response.status_code != 200 or body.get("status") != "success":
            raise ValueError(f"{promql!r}: {body.get('error', response.text)}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def api(self, path: str) -> Any:
        response = httpx.get(f"{self.url}/api/v1/{path}", timeout=10, verify=TLS)
        response.raise_for_status()
        return response.json()["data"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
