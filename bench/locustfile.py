"""Locust journeys for ``bench/run.py loadtest`` (which prepares the sessions and refuses
any target but loopback). Run by hand only against a loopback gunicorn:

    LOADTEST_SESSIONS=sessions.json locust -f bench/locustfile.py --headless \
        -u 50 -r 10 -t 60s --host http://127.0.0.1:8001

Commissioners browse and filter the register, open contracts, the dashboard and the
inbox; providers open their task list and fill in and submit a return. Every user is signed
in through a session made beforehand with the Django session engine (both factors verified),
so the sign-in form and TOTP codes are not part of the load.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopback import require_loopback

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FIELD = re.compile(r'name="(kpi-\d+-(?:value|numerator|denominator|yes_no))"')
VERSION = re.compile(r'name="version" value="(\d*)"')


@events.init.add_listener
def _check_host(environment, **_kwargs) -> None:
    require_loopback(environment.host or "")


def _load_sessions() -> dict:
    path = os.environ.get("LOADTEST_SESSIONS")
    if not path:
        return {"commissioners": [], "providers": []}
    with open(path) as handle:
        return json.load(handle)


SESSIONS = _load_sessions()
_commissioners = itertools.cycle(SESSIONS["commissioners"] or [None])
_providers = itertools.cycle(SESSIONS["providers"] or [None])


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def get(self, url: str, name: str):
        """GET that counts being sent to the sign-in or two-factor page as a failure."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif "/sign-in/" in response.url or "/two-factor/" in response.url:
                response.failure("not signed in")
            else:
                response.success()
        return response

    def sign_in(self, session: dict | None) -> None:
        if session is None:
            raise SystemExit("LOADTEST_SESSIONS lists no signed-in users")
        self.data = session
        self.client.cookies.set("sessionid", session["session_key"])


class Commissioner(SignedIn):
    weight = 3

    def on_start(self) -> None:
        self.sign_in(next(_commissioners))

    @task(3)
    def browse_register(self) -> None:
        page = random.randint(1, 5)
        self.get(f"/contracts/?page={page}", name="/contracts/?page=N")

    @task(3)
    def filter_register(self) -> None:
        status = random.choice(["live", "extended", "expired"])
        area = random.choice(["adult_social_care", "mental_health", "carers",
                              "public_health", "community_health"])
        self.get(f"/contracts/?status={status}&service_area={area}",
                        name="/contracts/?status=…&service_area=…")
        self.get(f"/contracts/?q={random.choice(['care', 'support', 'Mind'])}",
                        name="/contracts/?q=…")

    @task(3)
    def open_contract(self) -> None:
        contract = random.choice(self.data["contracts"])
        self.get(f"/contracts/{contract}/", name="/contracts/[id]/")

    @task(2)
    def dashboard(self) -> None:
        self.get("/", name="/ (dashboard)")

    @task(1)
    def inbox(self) -> None:
        self.get("/monitoring/inbox/", name="/monitoring/inbox/")


class Provider(SignedIn):
    weight = 1

    def on_start(self) -> None:
        self.sign_in(next(_providers))
        self.to_do = list(self.data["returns"])
        random.shuffle(self.to_do)

    @task(2)
    def task_list(self) -> None:
        self.get("/returns/", name="/returns/ (task list)")

    @task(3)
    def fill_in_return(self) -> None:
        if not self.to_do:
            self.get("/returns/", name="/returns/ (task list)")
            return
        url = self.to_do[0]
        form = self.get(url, name="/returns/[contract]/[period]/")
        csrf = CSRF.search(form.text)
        if csrf is None or 'value="continue"' not in form.text:
            self.to_do.pop(0)  # already submitted by another user: next one
            return
        version = VERSION.search(form.text)
        data = {"csrfmiddlewaretoken": csrf[1], "version": version[1] if version else "",
                "overall_commentary": "Referrals rose after the winter campaign."}
        for name in FIELD.findall(form.text):
            part = name.rsplit("-", 1)[1]
            data[name] = {"numerator": "42", "denominator": "50", "yes_no": "yes"}.get(
                part, str(random.randint(80, 400)))
        submit = random.random() < 0.5
        data["action"] = "continue" if submit else "save"
        headers = {"Referer": self.host + url}
        with self.client.post(url, data=data, headers=headers, catch_response=True,
                              name="POST /returns/[contract]/[period]/") as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            if not submit or "check" not in response.url:
                response.success()
                return
            response.success()
        check = self.get(response.url, name="/returns/[contract]/[period]/check/")
        csrf = CSRF.search(check.text)
        version = VERSION.search(check.text)
        if csrf is None:
            return
        with self.client.post(response.url, data={
            "csrfmiddlewaretoken": csrf[1], "declaration": "on",
            "version": version[1] if version else "",
        }, headers={"Referer": response.url}, catch_response=True,
                name="POST /returns/[contract]/[period]/check/") as submitted:
            if submitted.status_code == 200 and "submitted" in submitted.url:
                self.to_do.pop(0)
                submitted.success()
            elif submitted.status_code == 200:
                submitted.success()  # a validation message (e.g. stale version): not a fault
            else:
                submitted.failure(f"status {submitted.status_code}")
