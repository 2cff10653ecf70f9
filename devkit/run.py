"""`make run`: the real broker and database, the four services, and a small demo feed.

Stops everything it started on Ctrl-C (the local Kafka and FerretDB stay up; `make stop`).
"""

import itertools
import os
import random
import signal
import time
from contextlib import ExitStack

import httpx
from rich.console import Console

from devkit.infra import REPO, endpoints
from devkit.processes import SERVICES, Platform

DEMO_REPORTS = [
    ("hotline", "complaint", "小区门口的路灯坏了三天，晚上很黑"),
    ("miniapp", "help", "楼下水管爆了，整栋楼停水"),
    ("grid", "report", "河边有人乱倒垃圾"),
    ("web", "complaint", "夜里工地噪音太大，影响休息"),
    ("mailbox", "suggestion", "建议在学校路口加装红绿灯"),
    ("hotline", "consultation", "想咨询一下物业费的收费标准"),
    ("visit", "complaint", "超市出售过期食品"),
    ("enterprise_visit", "help", "厂区门前道路积水，货车进出困难"),
]

console = Console(soft_wrap=True)


def main() -> None:
    ports = {f"HUIYIN_{name.upper()}_PORT": str(8101 + i) for i, name in enumerate(SERVICES)}
    ports = {key: os.environ.get(key, value) for key, value in ports.items()}
    interval = float(os.environ.get("HUIYIN_DEMO_INTERVAL", "2"))
    admin = os.environ.get("HUIYIN_INTAKE_ADMIN_TOKEN", "demo-admin-token")
    with ExitStack() as stack:
        servers = endpoints(stack)
        platform = Platform(servers, "", REPO / ".local/logs", extra_env=ports, admin_token=admin)
        console.print(
            f"[bold]Huiyin[/] on {servers.source}: Kafka {servers.kafka_bootstrap}, "
            f"MongoDB {servers.mongo_url}"
        )
        platform.start()
        stack.callback(platform.stop)
        intake, reporting = platform["intake"].url, platform["reporting"].url
        operator = platform.token("operator")
        office = platform.token("office", office_id="411900-urban_management")
        console.print(
            f"""
  services   intake {intake}   routing {platform["routing"].url}
             supervision {platform["supervision"].url}   reporting {reporting}
  tokens     export OPERATOR={operator}
             export OFFICE={office}   (the city's urban management bureau)
             admin token: {admin}   (POST {intake}/principals adds principals)
  report     curl -X POST {intake}/issues -H "Authorization: Bearer $OPERATOR" \\
               -H 'content-type: application/json' \\
               -d '{{"channel":"hotline","kind":"complaint","text":"小区路灯不亮"}}'
  look up    curl -H "Authorization: Bearer $OPERATOR" {intake}/issues/<issue_id>
  inbox      curl -H "Authorization: Bearer $OFFICE" {intake}/inbox
  act        curl -X POST -H "Authorization: Bearer $OFFICE" -H 'content-type: application/json' \\
               -d '{{}}' {intake}/issues/<issue_id>/accept
  Open311    curl {intake}/open311/v2/services.json
  counts     curl {reporting}/counts
  metrics    curl {reporting}/metrics      (each service serves /metrics and /healthz)
  API docs   {intake}/docs
  logs       {platform.log_dir.relative_to(REPO)}/

  A demo feed reports an issue every {interval:g} s. Ctrl-C stops the services.
"""
        )
        feed(intake, reporting, operator, interval)


def feed(intake: str, reporting: str, token: str, interval: float) -> None:
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    rng = random.Random(12345)
    headers = {"Authorization": f"Bearer {token}"}
    for n in itertools.count(1):
        if stop:
            break
        channel, kind, text = rng.choice(DEMO_REPORTS)
        body = {"channel": channel, "kind": kind, "text": text}
        try:
            created = httpx.post(f"{intake}/issues", json=body, headers=headers, timeout=10)
            created.raise_for_status()
            counts = httpx.get(f"{reporting}/counts", timeout=10).json()
            console.print(
                f"#{n:<4} {channel:<16} {text[:14]:<14}  receipt {created.json()['receipt_code']}"
                f"  received {counts['received']}, assigned {counts['assigned']}"
            )
        except httpx.HTTPError as error:
            console.print(f"[yellow]demo feed: {error}[/]")
        time.sleep(interval)
    console.print("\nstopping the services (Kafka and FerretDB stay up: `make stop`)")


if __name__ == "__main__":
    main()
