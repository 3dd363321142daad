"""Settings come from the environment and a wrong value stops start-up, naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(env_overrides: dict[str, str], code: str | None = None
          ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY",
                        "ALLOWED_HOSTS", "CELERY_TASK_ALWAYS_EAGER", "EMAIL_BACKEND",
                        "EMAIL_HOST", "EMAIL_FILE_PATH", "EMAIL_TIMEOUT"}}
    env.update(env_overrides)
    code = code or (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'commissioning.settings'); django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.TIME_ZONE, settings.LANGUAGE_CODE)")
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_it_runs_on_sqlite_with_in_process_tasks_when_nothing_is_set():
    result = start({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "Europe/London",
                                     "en-gb"]


def test_it_uses_postgresql_and_redis_when_urls_are_set():
    result = start({"DATABASE_URL": "postgres://u:p@db.internal:5432/jc",
                    "CELERY_BROKER_URL": "redis://cache.internal:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["django.db.backends.postgresql", "False"]


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "jc.example.org",
              "PSEUDONYMISATION_KEY": "p" * 32}
EMAIL_SETTINGS = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
                  "'commissioning.settings'); django.setup(); from django.conf import settings;"
                  " print(settings.EMAIL_BACKEND.rsplit('.', 2)[1], settings.EMAIL_TIMEOUT)")


@pytest.mark.parametrize(
    ("overrides", "backend"),
    [
        ({**PRODUCTION, "EMAIL_HOST": "smtp.example.org"}, "smtp"),
        ({**PRODUCTION, "EMAIL_BACKEND": "smtp", "EMAIL_HOST": "smtp.example.org"}, "smtp"),
        ({**PRODUCTION, "EMAIL_BACKEND": "console"}, "console"),
        ({**PRODUCTION, "EMAIL_BACKEND": "file", "EMAIL_FILE_PATH": "/tmp/mail"}, "filebased"),
        ({}, "console"),  # DEBUG (development) prints e-mails to the console
    ],
)
def test_it_sends_e_mail_the_way_that_was_chosen_with_a_timeout(overrides, backend):
    result = start(overrides, EMAIL_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [backend, "10"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "false", "ALLOWED_HOSTS": "jc.example.org"}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "x" * 60, "PSEUDONYMISATION_KEY": "k"},
         "ALLOWED_HOSTS"),
        ({"DEBUG": "false", "SECRET_KEY": "short", "ALLOWED_HOSTS": "a"}, "SECRET_KEY"),
        ({"CELERY_BROKER_URL": "amqp://guest@localhost//"}, "CELERY_BROKER_URL"),
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL"),
        ({"SESSION_IDLE_MINUTES": "ten"}, "SESSION_IDLE_MINUTES"),
        # Production with no e-mail backend chosen: reset links must not go to the log.
        ({**PRODUCTION}, "EMAIL_BACKEND"),
        ({**PRODUCTION, "EMAIL_BACKEND": "pigeon"}, "EMAIL_BACKEND"),
        ({**PRODUCTION, "EMAIL_BACKEND": "smtp"}, "EMAIL_HOST"),
        ({**PRODUCTION, "EMAIL_BACKEND": "file"}, "EMAIL_FILE_PATH"),
        ({"EMAIL_HOST": "smtp.example.org", "EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT"),
    ],
)
def test_it_refuses_to_start_with_a_wrong_value_and_names_the_variable(overrides, named):
    result = start(overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Environment variable {named}" in result.stderr
