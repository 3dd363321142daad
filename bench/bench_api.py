"""Benchmark: the read-only API on the generated data set (``bench/run.py api``).

- a page of ``/api/v1/contracts/`` and ``/api/v1/facts/kpi-values/`` (100 rows, the first page
  and a page deep into the cursor), authenticated with a personal access token, median and
  p95 wall time over N requests, round-robin with the baselines measured in the same run:
  Django admin's changelists of contracts and KPIs, and a bare ``ListView`` of 100 contracts;
- the SQL query count of each at 10, 100 and 1,000 rows a page (it must not grow);
- the CSV export of every KPI value the commissioner can see, in a forked process: wall time,
  rows, bytes, growth of peak RSS and, in a second fork, the tracemalloc peak.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


TRACED_ROWS = 60_000


def _consume(response) -> int:
    if getattr(response, "streaming", False):
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def _bare_list_view():
    """A plain ListView of the commissioner's contracts, 100 a page, through a tiny template:
    what Django costs with no API framework at all."""
    # Django is set up at run time, not on import; these modules need it.
    from django.http import HttpResponse
    from django.template import engines
    from django.test import RequestFactory
    from django.views.generic import ListView

    from contracts.models import Contract

    template = engines["django"].from_string(
        "<table>{% for c in object_list %}<tr><td>{{ c.reference }}</td><td>{{ c.title }}"
        "</td><td>{{ c.provider.name }}</td><td>{{ c.annual_value }}</td></tr>{% endfor %}"
        "</table>")

    class Bare(ListView):
        paginate_by = 100

        def get_queryset(self):
            return Contract.objects.for_user(self.request.user).select_related(
                "provider").order_by("pk")

        def render_to_response(self, context, **kwargs):
            return HttpResponse(template.render(context))

    view = Bare.as_view()
    factory = RequestFactory()

    def call(user):
        request = factory.get("/bare/")
        request.user = user
        return view(request)

    return call


def _token_client(user):
    # Django is set up at run time, not on import; these modules need it.
    from django.test import Client

    from api import tokens

    secret = tokens.token_create(user=user, name="bench", days=1).secret
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _deep_url(client, url: str, pages: int) -> str:
    """The address of the page ``pages`` pages in, by following ``next``."""
    for _ in range(pages):
        nxt = json.loads(client.get(url).content)["next"]
        if not nxt:
            break
        url = nxt
    return url


def _queries(client, url: str) -> int:
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        _consume(response)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def _csv_child(email: str, write_fd: int, trace: bool, limit: int | None = None) -> None:
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connections

    from commissioning.models import User

    connections.close_all()
    user = User.objects.get(email=email)
    client = _token_client(user)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/api/v1/facts/kpi-values.csv")
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\r\n")
        if limit and rows > limit:
            break  # tracing is slow: enough rows to show the peak stays flat
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    os.write(write_fd, json.dumps({
        "status": response.status_code, "seconds": seconds, "bytes": size, "rows": rows - 1,
        "rss_before_mb": before / 1024, "rss_peak_mb": after / 1024,
        "rss_growth_mb": (after - before) / 1024,
        "tracemalloc_peak_mb": peak / 2**20 if peak is not None else None,
    }).encode())
    os.close(write_fd)


def _in_fork(target, *args) -> dict:
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connections

    connections.close_all()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        try:
            target(*args, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)


def _csv_export(email: str, trace: bool, limit: int | None = None) -> dict:
    return _in_fork(lambda fd: _csv_child(email, fd, trace, limit))


def measure(requests: int = 30, warm_up: int = 3) -> dict:
    # Django is set up at run time, not on import; these modules need it.
    from bench import scale
    from commissioning.models import User
    from contracts.models import Contract
    from monitoring.models import ReturnValue

    people = scale.personas()
    commissioner = User.objects.get(email=people["commissioner"])
    api = _token_client(commissioner)
    admin = scale.client_for(people["admin"])
    bare = _bare_list_view()
    contracts = "/api/v1/contracts/?page_size=100"
    values = "/api/v1/facts/kpi-values/?page_size=100"
    jobs = [
        ("API contracts, first page (100)", api.get, contracts),
        ("API contracts, page 40 (100)", api.get, _deep_url(api, contracts, 40)),
        ("API KPI values, first page (100)", api.get, values),
        ("API KPI values, page 400 (100)", api.get, _deep_url(api, values, 400)),
        ("Bare ListView, 100 contracts", lambda url: bare(commissioner), "/bare/"),
        ("Admin contract changelist (100)", admin.get, "/admin/contracts/contract/"),
        ("Admin KPI changelist (100)", admin.get, "/admin/monitoring/kpi/"),
    ]
    for label, get, url in jobs:
        for _ in range(warm_up):
            response = get(url)
            if response.status_code != 200:
                raise SystemExit(f"{label}: {url} answered {response.status_code}")
            _consume(response)
    wall = {label: [] for label, _g, _u in jobs}
    # This process's CPU time too: on a shared machine the wall time is mostly other people's
    # load, the CPU time much less so (the database server's time is not in it).
    cpu = {label: [] for label, _g, _u in jobs}
    for _ in range(requests):
        for label, get, url in jobs:
            started, cpu_started = time.perf_counter(), time.process_time()
            _consume(get(url))
            wall[label].append((time.perf_counter() - started) * 1000)
            cpu[label].append((time.process_time() - cpu_started) * 1000)
    results = {label: {**scale.summary(wall[label]), "url": url,
                       "cpu_median": statistics.median(cpu[label])}
               for label, _g, url in jobs}
    counts = {}
    for name, base in (("contracts", "/api/v1/contracts/"),
                       ("kpi-values", "/api/v1/facts/kpi-values/")):
        counts[name] = {size: _queries(api, f"{base}?page_size={size}")
                        for size in (10, 100, 1000)}
        counts[name]["deep page (100)"] = _queries(api, _deep_url(api, f"{base}?page_size=100",
                                                                  40))
    visible_values = ReturnValue.objects.filter(
        performance_return__contract__in=Contract.objects.for_user(commissioner),
        performance_return__status__in=("submitted", "accepted")).count()
    return {"pages": results, "queries": counts, "visible_values": visible_values,
            "all_values": ReturnValue.objects.count(),
            "csv": _csv_export(people["commissioner"], False),
            "csv_traced": _csv_export(people["commissioner"], True, TRACED_ROWS)}


def print_table(data: dict) -> None:
    print("\n| Page | median ms | p95 ms | CPU median ms | n |\n|---|---:|---:|---:|---:|")
    for label, f in data["pages"].items():
        print(f"| {label} | {f['median']:.1f} | {f['p95']:.1f} | {f['cpu_median']:.1f} "
              f"| {f['n']} |")
    print("\n| Endpoint | 10 rows | 100 rows | 1,000 rows | deep page |\n|---|---:|---:|---:|---:|")
    for name, c in data["queries"].items():
        print(f"| {name} | {c[10]} | {c[100]} | {c[1000]} | {c['deep page (100)']} |")
    csv, traced = data["csv"], data["csv_traced"]
    print(f"\nKPI values visible to the commissioner: {data['visible_values']:,} "
          f"(of {data['all_values']:,})")
    print(f"CSV export: {csv['rows']:,} rows, {csv['bytes'] / 2**20:.1f} MB in "
          f"{csv['seconds']:.1f} s; peak RSS {csv['rss_peak_mb']:.0f} MB "
          f"(grew {csv['rss_growth_mb']:.1f} MB from {csv['rss_before_mb']:.0f} MB); "
          f"with tracemalloc over the first {traced['rows']:,} rows: {traced['seconds']:.1f} s, "
          f"Python peak {traced['tracemalloc_peak_mb']:.1f} MB")


def gc_pauses() -> list[float]:
    """The durations (ms) of this process's full (generation 2) garbage collections from now
    on, filled in as they happen: a slow percentile with no query behind it is often one."""
    pauses: list[float] = []
    started: list[float] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif info["generation"] == 2 and started:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(record)
    return pauses


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/run.py api")
    parser.add_argument("--size", choices=["small", "large"], default="large")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--json", default=None)
    parser.add_argument("--csv-only", action="store_true",
                        help="only the CSV exports, as the commissioner and as the platform "
                             "administrator (who sees every KPI value)")
    args = parser.parse_args(argv)
    # Importable once ROOT is on sys.path (this file also runs as a script).
    from bench import scale

    # The data set is generated by a process of its own, as a web worker never generated it:
    # in this process the generator's leftovers made the heap large enough for Python's full
    # garbage collections to take 110-140 ms each, one every few KPI-value requests, which is
    # the benchmark's heap and not the service's (measured with gc.callbacks, 7 December).
    started = time.perf_counter()
    subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "run.py"),
                    "generate", "--size", args.size], check=True)
    print(f"generate_scale_data --size {args.size} (own process): "
          f"{time.perf_counter() - started:.1f} s")
    scale.setup()
    # As a web worker starts: commissioning.wsgi loads every view and freezes what it loaded.
    import commissioning.wsgi  # noqa: F401 - needs the settings set up first
    collections = gc_pauses()
    if args.csv_only:
        people = scale.personas()
        data = {"csv_only": True}
        for who in ("commissioner", "admin"):
            data[f"csv_{who}"] = _csv_export(people[who], False)
        scale.write_json(args.json, data)
        for who in ("commissioner", "admin"):
            csv = data[f"csv_{who}"]
            print(f"CSV export as {who}: {csv['rows']:,} rows, {csv['bytes'] / 2**20:.1f} MB in "
                  f"{csv['seconds']:.1f} s; peak RSS {csv['rss_peak_mb']:.0f} MB (grew "
                  f"{csv['rss_growth_mb']:.1f} MB from {csv['rss_before_mb']:.0f} MB)")
        return
    data = measure(requests=args.requests)
    data["size"] = args.size
    data["gc_full_collections"] = [round(ms, 1) for ms in collections]
    print(f"Full garbage collections while measuring: {len(collections)}"
          + (f", longest {max(collections):.0f} ms" if collections else ""))
    scale.write_json(args.json, data)
    print_table(data)


if __name__ == "__main__":
    main(sys.argv[1:])
