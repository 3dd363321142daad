"""Settings for benchmark servers: the service's own settings (all of them, from the same
environment variables) with the bench's URLconf, which adds the bare ``ListView`` baseline
at ``/bench/bare/``. Nothing else differs from production."""

from commissioning.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
