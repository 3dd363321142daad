"""Locust journeys for ``bench/run.py loadtest`` (which prepares the sessions and refuses
any target but loopback). Run by hand only against a loopback gunicorn:

    LOADTEST_SESSIONS=sessions.json locust -f bench/locustfile.py --headless \
        -u 50 -r 10 -t 60s --host http://127.0.0.1:8001

Commissioners browse and filter the register, open contracts, the dashboard and the
inbox; providers open their task list, fill in a return, upload evidence where a KPI needs
it, check their answers and submit it. Every user is signed in through a session made
beforehand with the Django session engine (both factors verified), so the sign-in form and
TOTP codes are not part of the load.

Think time: every page a user sees is followed by 1-5 s (``between(1, 5)``, mean 3 s) before
the next request, inside a journey as well as between journeys, as a browser user reads a
page or types into a form before moving on. Real users of a register and of a return form
take longer (tens of seconds a page, minutes to fill in a return), so 50 users here load the
server more than 50 real users would. Redirects after a POST are fetched as their own
request, as a browser does, so every request has its own figures.
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
FIELD = re.compile(r'name="(kpi-\d+-(?:value|numerator|denominator|yes_no|text))"')
VERSION = re.compile(r'name="version" value="(\d*)"')
ERROR = re.compile(r'govuk-error-summary__list">.*?<a [^>]*>([^<]+)</a>', re.S)
SIGNED_OUT = ("/sign-in/", "/two-factor/")
EVIDENCE_LINK = re.compile(r'href="(/returns/\d+/[^/"]+/evidence/)"')
# A small PDF (the upload checks the content signature, not the whole file).
EVIDENCE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


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
    wait_time = between(1, 5)

    def get(self, url: str, name: str):
        """GET that counts being sent to the sign-in or two-factor page as a failure."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif any(path in response.url for path in SIGNED_OUT):
                response.failure("not signed in")
            else:
                response.success()
        return response

    def post(self, url: str, name: str, data: dict, files: dict | None = None):
        """POST as a browser does (Referer; the redirect is fetched by the caller). Every
        form here is filled in to be accepted, so only a redirect onwards is a success: the
        form shown again (200, with its error messages) is a failure naming the first."""
        with self.client.post(url, data=data, files=files, name=name, catch_response=True,
                              allow_redirects=False,
                              headers={"Referer": self.host + url}) as response:
            location = response.headers.get("Location", "")
            if response.status_code == 302 and not location.startswith(SIGNED_OUT):
                response.success()
            elif response.status_code == 302:
                response.failure("not signed in")
            elif response.status_code == 200:
                error = ERROR.search(response.text)
                response.failure("refused: " + (error[1].strip() if error else "no message"))
            else:
                response.failure(f"status {response.status_code}")
        return response

    @staticmethod
    def location(response) -> str | None:
        """Where a successful POST sends the browser next (None after a failure)."""
        location = response.headers.get("Location", "")
        if response.status_code != 302 or location.startswith(SIGNED_OUT):
            return None
        return location

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
        self.wait()
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
        """Open the next return, upload evidence if a KPI needs it, fill in the figures and
        either save a draft (half the time) or check the answers and submit."""
        if not self.to_do:
            self.get("/returns/", name="/returns/ (task list)")
            return
        url = self.to_do[0]
        form = self.get(url, name="/returns/[contract]/[period]/")
        if form.status_code != 200:
            return
        if 'value="continue"' not in form.text:
            self.to_do.pop(0)  # already submitted (by another user or an earlier run)
            return
        link = EVIDENCE_LINK.search(form.text)
        if "Evidence is required." in form.text and "No evidence uploaded." in form.text \
                and link:
            self.wait()
            upload = self.get(link[1], name="/returns/[contract]/[period]/evidence/")
            csrf = CSRF.search(upload.text)
            if csrf is None:
                return
            self.wait()
            sent = self.post(link[1], name="POST /returns/[contract]/[period]/evidence/",
                             data={"csrfmiddlewaretoken": csrf[1], "kpi": ""},
                             files={"file": ("evidence.pdf", EVIDENCE_PDF, "application/pdf")})
            if self.location(sent) is None:
                return
            form = self.get(self.location(sent), name="/returns/[contract]/[period]/")
        csrf = CSRF.search(form.text)
        if csrf is None:
            return
        version = VERSION.search(form.text)
        data = {"csrfmiddlewaretoken": csrf[1], "version": version[1] if version else "",
                "overall_commentary": "Referrals rose after the winter campaign."}
        for name in FIELD.findall(form.text):
            part = name.rsplit("-", 1)[1]
            data[name] = {"numerator": "42", "denominator": "50", "yes_no": "yes",
                          "text": "On track"}.get(part, str(random.randint(80, 400)))
        submit = random.random() < 0.5
        data["action"] = "continue" if submit else "save"
        self.wait()  # typing the figures
        saved = self.post(url, name="POST /returns/[contract]/[period]/", data=data)
        target = self.location(saved)
        if target is None:
            return  # the form again, with what is missing
        if not submit or "/check/" not in target:
            self.get(target, name="/returns/[contract]/[period]/")
            return
        check = self.get(target, name="/returns/[contract]/[period]/check/")
        csrf = CSRF.search(check.text)
        version = VERSION.search(check.text)
        if csrf is None:
            return
        self.wait()  # reading the answers
        submitted = self.post(target, name="POST /returns/[contract]/[period]/check/", data={
            "csrfmiddlewaretoken": csrf[1], "declaration": "on",
            "version": version[1] if version else ""})
        done = self.location(submitted)
        if done and "submitted" in done:
            self.to_do.pop(0)
            self.get(done, name="/returns/[contract]/[period]/submitted/")
