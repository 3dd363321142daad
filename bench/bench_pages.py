"""Benchmark: every main page against Django admin's changelist of the same model, on the
generated data set.

    bench/run.py pages [--requests 30] [--json out.json] [--explain]

Signed-in test Client (both factors), DEBUG off, round-robin over the pages after warm-up so
other load on the machine falls on every page alike. For each page: median and p95 wall time,
median CPU time of this process, SQL queries of one request. With ``--explain`` every query
of every page is run again under EXPLAIN ANALYZE and sequential scans on tables of more than
10,000 rows are listed.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time

from bench import scale

BIG_TABLE_ROWS = 10_000


def page_list(t) -> list[tuple[str, str, str, str | None]]:
    """(label, persona, url, admin changelist url to compare with)."""
    admin_contracts = "/admin/contracts/contract/"
    returns_admin = "/admin/monitoring/performancereturn/"
    pages = [
        ("Dashboard, commissioner", "commissioner", "/", admin_contracts),
        ("Dashboard, provider", "provider", "/", returns_admin),
        ("Dashboard, finance officer", "finance", "/", admin_contracts),
        ("Contract register", "commissioner", "/contracts/", admin_contracts),
        ("Contract register, filtered", "commissioner",
         "/contracts/?status=live&service_area=adult_social_care",
         admin_contracts + "?status__exact=live&service_area__exact=adult_social_care"),
        ("Contract page", "commissioner", f"/contracts/{t.contract_id}/", admin_contracts),
        ("Section 75 agreement page", "commissioner",
         f"/funding/agreements/{t.agreement_id}/", "/admin/funding/scheme/"),
        ("Provider task list", "provider", "/returns/", returns_admin),
        ("Provider return form", "provider",
         f"/returns/{t.return_contract_id}/{t.return_period_code}/", returns_admin),
        ("Commissioner inbox", "commissioner", "/monitoring/inbox/",
         returns_admin + "?status__exact=submitted"),
        ("Performance overview", "commissioner", "/monitoring/", "/admin/monitoring/kpi/"),
    ]
    if t.framework_id:
        # Django is set up at run time, not on import; these modules need it.
        from django.contrib import admin

        from contracts.frameworks.models import Framework

        compare = "/admin/contracts/framework/" if admin.site.is_registered(Framework) \
            else admin_contracts
        pages.insert(6, ("Framework page", "commissioner", f"/frameworks/{t.framework_id}/",
                         compare))
    return pages


def _consume(response) -> int:
    if getattr(response, "streaming", False):
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def measure(requests: int = 30, warm_up: int = 3, explain: bool = False) -> dict:
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = scale.personas()
    clients = {name: scale.client_for(email) for name, email in people.items()}
    t = scale.targets()
    pages = page_list(t)
    admin_urls = sorted({a for *_x, a in pages if a})
    jobs = [(label, clients[persona], url) for label, persona, url, _a in pages]
    jobs += [(f"admin {url}", clients["admin"], url) for url in admin_urls]
    for label, client, url in jobs:
        for _ in range(warm_up):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{label}: {url} answered {response.status_code}")
            _consume(response)
    wall = {label: [] for label, _c, _u in jobs}
    cpu = {label: [] for label, _c, _u in jobs}
    for _ in range(requests):
        for label, client, url in jobs:
            started, started_cpu = time.perf_counter(), time.process_time()
            _consume(client.get(url))
            wall[label].append((time.perf_counter() - started) * 1000)
            cpu[label].append((time.process_time() - started_cpu) * 1000)
    results = {}
    seq_scans = {}
    for label, client, url in jobs:
        with CaptureQueriesContext(connection) as captured:
            _consume(client.get(url))
        figures = scale.summary(wall[label])
        figures["cpu"] = statistics.median(cpu[label])
        figures["queries"] = len(captured)
        figures["url"] = url
        results[label] = figures
        if explain:
            seq_scans[label] = _seq_scans([q["sql"] for q in captured.captured_queries])
    rows = []
    for label, persona, url, admin_url in pages:
        ours = results[label]
        theirs = results[f"admin {admin_url}"] if admin_url else None
        rows.append({
            "page": label, "persona": persona, "url": url, **ours,
            "admin_url": admin_url,
            "admin_median": theirs["median"] if theirs else None,
            "admin_p95": theirs["p95"] if theirs else None,
            "admin_queries": theirs["queries"] if theirs else None,
            "ratio": ours["median"] / theirs["median"] if theirs else None,
            "cpu_ratio": ours["cpu"] / theirs["cpu"] if theirs else None,
        })
    return {"pages": rows, "admin": {u: results[f"admin {u}"] for u in admin_urls},
            "seq_scans": seq_scans}


def _table_sizes() -> dict[str, int]:
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r'")
        return dict(cursor.fetchall())


def _seq_scans(queries: list[str]) -> list[str]:
    """Sequential scans on big tables in the plans of these queries (EXPLAIN ANALYZE)."""
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection

    sizes = _table_sizes()
    found = []
    with connection.cursor() as cursor:
        for sql in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            stack = [plan[0]["Plan"]]
            while stack:
                node = stack.pop()
                stack.extend(node.get("Plans", []))
                table = node.get("Relation Name")
                if node.get("Node Type") == "Seq Scan" and sizes.get(table, 0) > BIG_TABLE_ROWS:
                    short = re.sub(r"\s+", " ", sql)[:160]
                    found.append(f"{table} ({sizes[table]:,} rows, "
                                 f"{node.get('Actual Total Time', 0):.1f} ms): {short}")
    return found


def print_table(data: dict, small: dict | None = None) -> None:
    small_q = {r["page"]: r["queries"] for r in small["pages"]} if small else {}
    print("| Page | Median ms | p95 ms | CPU ms | Queries (large) | Queries (small) | "
          "Admin median ms | Admin p95 ms | Admin queries | Ratio ours/admin |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in data["pages"]:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else ""
        print(f"| {r['page']} | {r['median']:.1f} | {r['p95']:.1f} | {r['cpu']:.1f} | "
              f"{r['queries']} | {small_q.get(r['page'], '')} | "
              f"{r['admin_median']:.1f} | {r['admin_p95']:.1f} | {r['admin_queries']} | "
              f"{ratio} |")
    if data.get("seq_scans"):
        print()
        for page, scans in data["seq_scans"].items():
            for scan in scans:
                print(f"Seq scan on a big table, {page}: {scan}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/run.py pages")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--json")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)

    scale.setup()
    data = measure(requests=max(args.requests, 1), explain=args.explain)
    scale.write_json(args.json, data)
    print_table(data)
