"""From what `make bench` measured to its figures (one flat JSON object) and its one table."""

from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from bench.figures import Row, decile_costs, grows, pct, ratio, table, value
from bench.load import Steady, Throughput


def steady_figures(load: Steady, rate: float, seconds: float) -> dict[str, Any]:
    count = len(load.scheduled)
    posts = list(load.answered.values())
    flows = [f for n in range(count) if (f := load.flow(n)) is not None]
    not_assigned = len(load.issue_of) - len(flows)
    spread = load.started[-1] - load.started[0] if count > 1 else 0.0
    last_answer = max((load.scheduled[n] + t for n, t in load.answered.items()), default=0.0)
    tenth = max(1, round(count * 0.1))

    def p50_flow(reports: range) -> float | None:
        values = [f for n in reports if (f := load.flow(n)) is not None]
        return pct(values, 0.5, missing=len(reports) - len(values))  # failed POSTs included

    deciles = decile_costs(load.samples, len(load.issue_of))
    cpu_first, cpu_last = (deciles[0][0], deciles[1][0]) if deciles else (None, None)
    return {
        "steady_rate_per_s": rate,
        "steady_seconds": seconds,
        "steady_reports": count,
        "steady_achieved_rate_per_s": round((count - 1) / spread, 1) if spread > 0 else rate,
        "steady_answered_per_s": round(len(posts) / last_answer, 1) if last_answer else None,
        "steady_max_send_slip_ms": round(
            max(s - at for s, at in zip(load.started, load.scheduled, strict=True)) * 1000, 1
        ),
        "steady_failed_posts": load.failed,
        "steady_failures": dict(load.failures),
        "steady_not_assigned": not_assigned,
        "steady_waited_s": round(load.waited, 1),
        "steady_post_p50_ms": pct(posts, 0.5, missing=load.failed),
        "steady_post_p99_ms": pct(posts, 0.99, missing=load.failed),
        "steady_report_to_assigned_p50_ms": pct(flows, 0.5, missing=not_assigned),
        "steady_report_to_assigned_p99_ms": pct(flows, 0.99, missing=not_assigned),
        "steady_report_to_assigned_p50_ms_first_10pct": p50_flow(range(tenth)),
        "steady_report_to_assigned_p50_ms_last_10pct": p50_flow(range(count - tenth, count)),
        "steady_cpu_ms_per_issue_first_10pct": cpu_first,
        "steady_cpu_ms_per_issue_last_10pct": cpu_last,
    }


def figures(
    opts: Namespace,
    flow: Throughput,
    load: Steady,
    *,
    events: int,
    mean_size: int,
    raw_seconds: float,
    reported: int,
    engine: Mapping[str, Any],
    cpu: Mapping[str, float],
    rss: Mapping[str, float],
    machine: Mapping[str, Any],
) -> dict[str, Any]:
    issues_on_log = max(reported, 1)
    skeleton_eps = events / issues_on_log * opts.issues / flow.flowed  # events per issue × rate
    raw_eps = events / raw_seconds
    deciles = decile_costs(flow.samples, opts.issues)
    (cpu_first, wall_first), (cpu_last, wall_last) = deciles or ((None, None), (None, None))
    stead = steady_figures(load, opts.rate, opts.seconds)
    cost_grows = {
        "throughput_cpu_per_issue": grows(cpu_first, cpu_last),
        # the last tenth's median never came (failed or not assigned): that is growth too
        "steady_report_to_assigned": True
        if stead["steady_report_to_assigned_p50_ms_last_10pct"] is None
        and stead["steady_report_to_assigned_p50_ms_first_10pct"] is not None
        else grows(
            stead["steady_report_to_assigned_p50_ms_first_10pct"],
            stead["steady_report_to_assigned_p50_ms_last_10pct"],
        ),
        "steady_cpu_per_issue": grows(
            stead["steady_cpu_ms_per_issue_first_10pct"],
            stead["steady_cpu_ms_per_issue_last_10pct"],
        ),
    }
    return {
        "issues": opts.issues,
        "clients": opts.clients,
        "events_on_log": events,
        "issues_on_log": reported,
        "mean_event_bytes": mean_size,
        "skeleton_seconds": round(flow.flowed, 2),
        "skeleton_issues_per_s": round(opts.issues / flow.flowed, 1),
        "skeleton_events_per_s": round(skeleton_eps, 1),
        "intake_posts_per_s": round(opts.issues / max(flow.posted, 1e-9), 1),
        "intake_post_p50_ms": pct(flow.post_latencies, 0.5),
        "intake_post_p99_ms": pct(flow.post_latencies, 0.99),
        "raw_kafka_seconds": round(raw_seconds, 2),
        "raw_kafka_events_per_s": round(raw_eps, 1),
        "raw_over_skeleton": ratio(raw_eps, skeleton_eps),
        "cpu_ms_per_issue_first_10pct": cpu_first,
        "cpu_ms_per_issue_last_10pct": cpu_last,
        "wall_ms_per_issue_first_10pct": wall_first,
        "wall_ms_per_issue_last_10pct": wall_last,
        **stead,
        "cost_grows": cost_grows,
        "cost_grows_any": any(cost_grows.values()),
        **engine,
        **{f"cpu_s_{name}": round(seconds, 2) for name, seconds in cpu.items()},
        "cpu_ms_per_issue_platform": round(
            sum(s for n, s in cpu.items() if n not in ("bench", "other")) / issues_on_log * 1000, 1
        ),
        **{f"rss_mb_{name}": mb for name, mb in rss.items()},
        "machine": dict(machine),
    }


def render(f: Mapping[str, Any]) -> str:
    """The figures as one table, in the order of the story."""
    grown = f["cost_grows"]

    def flag(key: str) -> str:
        return {True: "GROWS", False: "steady", None: "n/a"}[grown[key]]

    services = [k.removeprefix("rss_mb_") for k in f if k.startswith("rss_mb_")]
    issues = max(f["issues_on_log"], 1)
    cpu_rows: list[Row] = []
    for name in [*services, "engine", "kafka", "bench", "other"]:
        if f"cpu_s_{name}" not in f:
            continue
        seconds = f[f"cpu_s_{name}"]
        note = f"{seconds / issues * 1000:.1f} ms/issue"
        if name in services:
            note += f", RSS {value(f[f'rss_mb_{name}'], 'MB')}"
        elif name == "other":
            note = "the rest of the machine meanwhile (other users' load)"
        elif name in ("engine", "kafka"):
            note += " (shared server: others' load included)"
        cpu_rows.append((f"CPU {name}", value(seconds, "s"), note))
    cpu_rows.append(("CPU platform per issue", value(f["cpu_ms_per_issue_platform"], "ms"), ""))
    m = f["machine"]
    sections: list[tuple[str, list[Row]]] = [
        (f"end to end: {f['issues']} reports, {f['clients']} clients, closed loop", [
            ("issues/s, reported to assigned and counted", value(f["skeleton_issues_per_s"]),
             f"{f['skeleton_seconds']} s"),
            ("platform events/s", value(f["skeleton_events_per_s"]),
             f"{f['events_on_log']} events on the log, {f['mean_event_bytes']} B mean"),
            ("raw Kafka events/s, same broker and size", value(f["raw_kafka_events_per_s"]),
             "acks=all, idempotent, produced and consumed"),
            ("ratio raw Kafka / platform", value(f["raw_over_skeleton"], "x"), ""),
            ("POST /issues p50 / p99",
             f"{value(f['intake_post_p50_ms'])} / {value(f['intake_post_p99_ms'])} ms",
             f"{f['intake_posts_per_s']} posts/s"),
        ]),
        (f"the engine alone at {f['engine_docs']:,} documents (scratch database)", [
            ("find by _id", value(f["engine_find_by_id_per_s"], "/s"), ""),
            ("find by an indexed field (equality)",
             value(f["engine_find_by_indexed_field_per_s"], "/s"), ""),
            ("bulk upsert (new documents)", value(f["engine_bulk_upsert_docs_per_s"], "docs/s"),
             "batches of 1,000"),
            ("bulk update of 1,000 existing documents",
             value(f["engine_bulk_update_1000_docs_per_s"], "docs/s"),
             "n/a = no answer in 120 s"),
        ]),
        (f"steady: {f['steady_rate_per_s']:g} reports/s offered for {f['steady_seconds']:g} s, "
         "open loop", [
            ("achieved send rate", value(f["steady_achieved_rate_per_s"], "/s"),
             f"max slip behind schedule {value(f['steady_max_send_slip_ms'], 'ms')}"),
            ("answered rate", value(f["steady_answered_per_s"], "/s"),
             f"{f['steady_failed_posts']} failed"
             + "".join(f", {n} {kind}" for kind, n in f["steady_failures"].items())),
            ("POST /issues p50 / p99",
             f"{value(f['steady_post_p50_ms'])} / {value(f['steady_post_p99_ms'])} ms",
             "from the scheduled moment"),
            ("report -> assigned p50 / p99",
             f"{value(f['steady_report_to_assigned_p50_ms'])} / "
             f"{value(f['steady_report_to_assigned_p99_ms'])} ms",
             f"{f['steady_not_assigned']} not assigned within {f['steady_waited_s']} s "
             "(n/a: the quantile is among them)"),
        ]),
        ("per-event cost, first vs last 10 % of the run", [
            ("closed loop: CPU ms per issue",
             f"{value(f['cpu_ms_per_issue_first_10pct'])} -> "
             f"{value(f['cpu_ms_per_issue_last_10pct'])}", flag("throughput_cpu_per_issue")),
            ("closed loop: wall ms per issue",
             f"{value(f['wall_ms_per_issue_first_10pct'])} -> "
             f"{value(f['wall_ms_per_issue_last_10pct'])}", ""),
            ("steady: report -> assigned p50 ms",
             f"{value(f['steady_report_to_assigned_p50_ms_first_10pct'])} -> "
             f"{value(f['steady_report_to_assigned_p50_ms_last_10pct'])}",
             flag("steady_report_to_assigned")),
            ("steady: CPU ms per issue assigned",
             f"{value(f['steady_cpu_ms_per_issue_first_10pct'])} -> "
             f"{value(f['steady_cpu_ms_per_issue_last_10pct'])}", flag("steady_cpu_per_issue")),
        ]),
        ("CPU seconds per process over both loads, RSS per service at the end", cpu_rows),
        ("machine", [
            ("cores; load average (1 min) start -> end",
             f"{m['cores']}; {m['load_avg_1m_start']:.2f} -> {m['load_avg_1m_end']:.2f}", ""),
        ]),
    ]  # fmt: skip
    scans = f.get("scanning_queries")
    if scans is not None:
        rows: list[Row] = [("scan", "", s) for s in scans] or [("none", "", "")]
        sections.append(("queries the engine answers by a scan", rows))
    return table(sections)
