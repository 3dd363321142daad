import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
application = get_wsgi_application()

# Import every view now (the URLconf is otherwise loaded by the first request a process
# serves). The views pull in WeasyPrint (through commissioning.pdf), openpyxl and the rest:
# about 0.8 s on an idle 2-core machine and 1.5-3.5 s under load, which the first request of
# every gunicorn worker (at start and after each --max-requests recycling) used to wait for.
# A worker loading the app here does so before it accepts connections; with --preload it is
# done once in the master and shared by the forked workers. No database connection is opened.
get_resolver().url_patterns  # noqa: B018

# Everything loaded so far lives as long as the process: the garbage collector is told to
# leave it alone (gc.freeze), so a full collection walks only what requests create, not the
# ~200,000 objects of Django, the apps, WeasyPrint's font tables and openpyxl. Before, each
# full collection took 60-125 ms on these machines and came every few requests of the API's
# KPI values, the p95 of that page (bench/RESULTS.md). Done before gunicorn forks (--preload),
# it also keeps those pages shared between the workers.
gc.freeze()
