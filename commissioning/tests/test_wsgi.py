"""The WSGI module loads every view when it is imported, so that a gunicorn worker's first
request does not wait for the imports (WeasyPrint among them), and it opens no database
connection doing so (with --preload the master must not hold one its workers would share)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import sys
import commissioning.wsgi
from django.db import connections
from django.urls import get_resolver
assert "urlconf_module" in get_resolver().__dict__, "URLconf not loaded"
assert "monitoring.views" in sys.modules and "funding.views" in sys.modules
assert all(c.connection is None for c in connections.all()), "a connection was opened"
print("ok")
"""


def test_importing_the_wsgi_module_loads_the_views_without_a_database_connection():
    result = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
