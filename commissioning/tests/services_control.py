"""Stop and start the real test services (started by scripts/with-test-services.sh)."""

from __future__ import annotations

import os
import subprocess
import time


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def redis_stop() -> None:
    port = os.environ["TEST_REDIS_PORT"]
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True,
                   timeout=20)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True).returncode:
            return
        time.sleep(0.1)


def redis_start() -> None:
    port = os.environ["TEST_REDIS_PORT"]
    run_dir = os.environ["TEST_SERVICES_DIR"]
    subprocess.run(["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "yes",
                    "--pidfile", f"{run_dir}/redis.pid", "--logfile", f"{run_dir}/redis.log"],
                   check=True, timeout=20)
    for _ in range(50):
        out = subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True, text=True)
        if out.stdout.strip() == "PONG":
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not come back")


def postgres_restart() -> None:
    pg_ctl = os.path.join(os.environ["TEST_PG_BIN"], "pg_ctl")
    data = os.environ["TEST_PG_DATA"]
    # The server's output goes to its log file: a pipe held open by the daemon would block.
    subprocess.run(_as_postgres([pg_ctl, "-D", data, "-l", f"{data}/server.log", "-m", "fast",
                                 "-w", "restart"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def pg_tool(name: str) -> str:
    return os.path.join(os.environ["TEST_PG_BIN"], name)
