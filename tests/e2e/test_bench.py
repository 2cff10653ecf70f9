"""Every bench target runs, at a tiny size, and prints its figures: a benchmark that no longer
runs (a 401 since intake requires principals, an import that moved) fails here, not on the
day someone wants the numbers. Nothing here judges the figures or how long a bench takes."""

import json
import os
import re
import signal
import subprocess
import sys
from typing import Any

import pytest

from devkit.infra import REPO, Endpoints

pytestmark = pytest.mark.e2e

HANG = 270.0  # seconds: a guard against a hung bench (below pytest's timeout), not a limit


def run_bench(module: str, servers: Endpoints, **sizes: str) -> str:
    """`python -m <module>` as `make bench…` runs it, on the test servers; its stdout. The
    bench runs in a session of its own, so a hung one is stopped with every service it
    started."""
    env = {**os.environ, **servers.env(), **sizes}
    bench = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = bench.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        os.killpg(bench.pid, signal.SIGKILL)
        out, err = bench.communicate()
        pytest.fail(f"{module} still running after {HANG} s:\n{out}\n{err[-3000:]}")
    assert bench.returncode == 0, f"{module} failed:\n{out}\n{err[-3000:]}"
    return out


def printed_json(out: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(out[out.index("{") : out.rindex("}") + 1])
    return found


def test_the_skeleton_bench_posts_as_an_operator_and_prints_its_figures(
    servers: Endpoints,
) -> None:
    sizes = {"BENCH_ISSUES": "6", "BENCH_CLIENTS": "2", "BENCH_RATE": "4", "BENCH_SECONDS": "1"}
    out = run_bench("bench.skeleton", servers, **sizes, BENCH_EXPLAIN="1")
    figures = printed_json(out)
    assert figures["issues"] == 6 and figures["clients"] == 2
    assert figures["events_on_log"] >= 6 * 3  # reported, triaged, assigned at least
    for name in ("skeleton_issues_per_s", "intake_posts_per_s", "raw_kafka_events_per_s",
                 "intake_post_p50_ms", "intake_post_p99_ms", "raw_over_skeleton",
                 "steady_post_p99_ms", "steady_report_to_assigned_p99_ms",
                 "engine_find_by_id_per_s", "engine_find_by_indexed_field_per_s",
                 "engine_bulk_upsert_docs_per_s", "cpu_ms_per_issue_first_10pct",
                 "rss_mb_intake", "cpu_s_routing"):  # fmt: skip
        assert isinstance(figures[name], float | int) and figures[name] > 0, name
    assert figures["steady_reports"] == 4 and figures["steady_not_assigned"] == 0
    assert isinstance(figures["scanning_queries"], list)
    for name in ("engine_bulk_update_1000_docs_per_s", "steady_achieved_rate_per_s",
                 "steady_answered_per_s", "steady_report_to_assigned_p50_ms_first_10pct",
                 "steady_report_to_assigned_p50_ms_last_10pct",
                 "steady_cpu_ms_per_issue_first_10pct", "cpu_ms_per_issue_platform"):  # fmt: skip
        assert isinstance(figures[name], float | int) and figures[name] > 0, name
    for name in ("cpu_ms_per_issue_last_10pct", "steady_cpu_ms_per_issue_last_10pct",
                 "cpu_s_other", "steady_max_send_slip_ms"):  # fmt: skip
        assert isinstance(figures[name], float | int) and figures[name] >= 0, name
    assert set(figures["cost_grows"]) == {
        "throughput_cpu_per_issue", "steady_report_to_assigned", "steady_cpu_per_issue"
    }  # fmt: skip
    assert figures["engine_docs"] >= 1000  # a bulk update of 1,000 existing documents
    assert figures["issues_on_log"] == 6 + 4
    table = out[: out.index("{")]
    for heading in ("[end to end:", "[the engine alone at", "[steady:", "[per-event cost",
                    "[CPU seconds per process"):  # fmt: skip
        assert heading in table, heading


def test_the_intake_bench_posts_closed_and_open_loop(servers: Endpoints) -> None:
    sizes = {"BENCH_ISSUES": "6", "BENCH_CLIENTS": "2", "BENCH_RATE": "4", "BENCH_SECONDS": "1"}
    out = run_bench("bench.intake", servers, **sizes)
    assert re.search(r"closed loop, 6 reports, 2 clients: [\d.]+/s, p50 \d+ ms", out), out
    assert re.search(r"open loop 4/s for 1 s: answered 4, failed 0, p50 \d+ ms", out), out
    assert "intake CPU" in out and "mean inside intake" in out


def test_the_reporting_rebuild_bench_rebuilds_and_reads_back(servers: Endpoints) -> None:
    out = run_bench("bench.reporting_rebuild", servers, BENCH_ISSUES="5")
    rebuilt = re.search(r"rebuild: (\d+) events of 5 issues in [\d.]+ s = \d+ events/s", out)
    assert rebuilt and int(rebuilt[1]) >= 5 * 8, out
    assert re.search(r"read back 5 facts, rates and task list in \d+ ms", out), out
    assert "received 5, 5 tasks" in out


def test_the_clocks_bench_arms_restarts_and_fires(servers: Endpoints) -> None:
    out = run_bench(
        "bench.clocks", servers,
        BENCH_CLOCKS="20", BENCH_BACKLOG="2", BENCH_RATE="2", BENCH_WINDOW="2",
    )  # fmt: skip
    figures = printed_json(out)
    assert figures["clocks"] == 20 and figures["armed_by_service"] == 20
    assert (figures["backlog_steps"], figures["window_steps"]) == (2, 4)
    printed = ("arming_clocks_per_s", "rss_mb_armed", "restart_to_healthy_s", "rss_mb_end",
               "restart_to_loaded_s", "steps_missing", "duplicate_copies")  # fmt: skip
    for name in printed:
        assert isinstance(figures[name], float | int), name


def test_the_consumers_bench_times_routing_intake_and_notify(servers: Endpoints) -> None:
    out = run_bench("bench.consumers", servers, BENCH_CONSUMER_EVENTS="5", BENCH_CONSUMER_RUNS="1")
    rows = dict(re.findall(r"^(routing|intake|notify) +(\d+) ", out, re.MULTILINE))
    assert int(rows["routing"]) == 5, out
    assert int(rows["intake"]) == int(rows["notify"]) >= 5 * 2, out  # reported, triaged…
