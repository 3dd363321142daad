"""The service's URLs plus the bench's bare ``ListView`` baseline (``/bench/bare/``), for
benchmark runs only (``bench.settings``); the service's own patterns come first and are
unchanged, so every page resolves as in production."""

from django.urls import path

from bench.bare import bare_contract_list
from commissioning.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401

urlpatterns = [*urlpatterns, path("bench/bare/", bare_contract_list, name="bench_bare")]
