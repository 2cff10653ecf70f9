"""`make run`: the real broker and database, the four services, and the demo city playing a
day of reports compressed into minutes (devkit/simulator). After the day the services keep
running until Ctrl-C; Ctrl-C during the day ends it early (the figures are printed either way).
Stops everything it started (the local Kafka and FerretDB stay up; `make stop`).
"""

import os
import signal
import threading
import time
from contextlib import ExitStack

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from rich.console import Console

from devkit.console_users import ConsoleAdmin
from devkit.infra import REPO, endpoints
from devkit.processes import SERVICES, Platform, free_port
from devkit.simulator.__main__ import settings_from_env, simulate
from devkit.simulator.clock import supervision_offset

SHIFT = "HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS"
DEMO_PASSWORD = "huiyin-demo"
DEMO_USERS = {  # console user → role and binding; all with DEMO_PASSWORD
    "demo-operator": ("operator", {}),
    "demo-office": ("office", {"office_id": "411900-urban_management"}),
    "demo-supervisor": ("supervisor", {"region_code": "411900", "level": "city"}),
    "demo-grid": ("grid_worker", {"region_code": "411901001"}),
    "demo-leader": ("leader", {}),
}
console = Console(soft_wrap=True)


def main() -> None:
    ports = {f"HUIYIN_{name.upper()}_PORT": str(8101 + i) for i, name in enumerate(SERVICES)}
    ports["HUIYIN_CONSOLE_PORT"] = "8100"
    ports = {key: os.environ.get(key, value) for key, value in ports.items()}
    console_password = os.environ.get("HUIYIN_CONSOLE_ADMIN_PASSWORD", "demo-admin-password")
    admin = os.environ.get("HUIYIN_INTAKE_ADMIN_TOKEN", "demo-admin-token")
    day = settings_from_env("", "", admin)
    # offices miss deadlines within minutes: supervision's clock runs one working day ahead,
    # less a quarter of the compressed day (devkit/simulator/clock.py)
    lead = max(day.span / 4, 10.0)
    clock = {SHIFT: os.environ.get(SHIFT) or f"{supervision_offset(lead):.0f}"}
    # each demo day plays in a namespace of its own (topics and databases), so the figures
    # reporting serves are that day's alone; HUIYIN_DEMO_NAMESPACE picks one (or resumes one)
    namespace = os.environ.get("HUIYIN_DEMO_NAMESPACE") or time.strftime("demo%Y%m%d%H%M%S")
    with ExitStack() as stack:
        servers = endpoints(stack)
        # notify's e-mails land in a maildir on this machine: a real SMTP server on loopback
        mail_dir = REPO / ".local/mail" / namespace
        mail_dir.parent.mkdir(parents=True, exist_ok=True)
        catcher = Controller(Mailbox(mail_dir), hostname="127.0.0.1", port=free_port())
        catcher.start()
        stack.callback(catcher.stop)
        smtp = {
            "HUIYIN_NOTIFY_SMTP_HOST": "127.0.0.1",
            "HUIYIN_NOTIFY_SMTP_PORT": str(catcher.port),
        }
        env = {**ports, **clock, **smtp}
        platform = Platform(
            servers, namespace, REPO / ".local/logs", extra_env=env, admin_token=admin,
            console=True, console_password=console_password,
        )  # fmt: skip
        console.print(
            f"[bold]Huiyin[/] on {servers.source}: Kafka {servers.kafka_bootstrap}, "
            f"MongoDB {servers.mongo_url}"
        )
        platform.start()
        stack.callback(platform.stop)
        intake, reporting = platform["intake"].url, platform["reporting"].url
        operator = platform.token("operator")
        office = platform.token("office", office_id="411900-urban_management")
        supervisor = platform.token("supervisor", region_code="411900", level="city")
        console_url = platform["console"].url
        demo_admin = ConsoleAdmin(console_url, console_password)
        for name, (role, binding) in DEMO_USERS.items():
            demo_admin.add_user(name, DEMO_PASSWORD, role, **binding)
        demo_admin.close()
        users = "   ".join(f"{name} ({role})" for name, (role, _) in DEMO_USERS.items())
        console.print(
            f"""
  console    {console_url}   sign in as one of (password {DEMO_PASSWORD}):
             {users}
             or admin / {console_password} (adds users); the public page: {console_url}/public
  services   intake {intake}   routing {platform["routing"].url}
             supervision {platform["supervision"].url}   reporting {reporting}
  notify     {platform["notify"].url}/deliveries   (what was sent to whom, masked); its e-mails
             land in {mail_dir.relative_to(REPO)}/new/ (a maildir; SMS and webhooks need a provider)
  tokens     export OPERATOR={operator}
             export OFFICE={office}   (the city's urban management bureau)
             export SUPERVISOR={supervisor}   (the city's supervisor)
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
  namespace  {namespace}   (topics {namespace}.huiyin.issues.v1…, databases {namespace}_…;
             export HUIYIN_TOPIC_PREFIX={namespace}. for bin/huiyin dlq)

  CLI        bin/huiyin --help      (HUIYIN_CLI_TOKEN=$OPERATOR bin/huiyin show <issue_id>)

  The demo city plays a day: {day.reports} reports in {day.minutes:g} minutes
  (HUIYIN_DEMO_REPORTS, HUIYIN_DEMO_MINUTES, HUIYIN_DEMO_SEED). Supervision's clock runs
  {clock[SHIFT]} s ahead: an untouched issue is flagged about {lead:.0f} s after assignment.
"""
        )
        day = settings_from_env(intake, reporting, admin)
        if not simulate(day, console):
            wait_for_ctrl_c()
        console.print("\nstopping the services (Kafka and FerretDB stay up: `make stop`)")


def wait_for_ctrl_c() -> None:
    console.print("\nThe services keep running for you to explore. Ctrl-C stops them.")
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass


if __name__ == "__main__":
    main()
