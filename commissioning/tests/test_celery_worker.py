"""End to end through the real broker: a web request enqueues on Redis, a separate Celery
worker process picks the task up and sends the e-mail."""

import re
import time

import pytest

from commissioning.models import Membership, User

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for_mail(folder, timeout=30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.log"))
        if files:
            return files[0].read_text()
        time.sleep(0.2)
    raise AssertionError("no e-mail was sent by the worker")


def test_it_sends_an_invitation_through_redis_and_a_real_worker(world, client_for,
                                                               celery_worker_process):
    admin = client_for(world.partnership_admin_a)
    response = admin.post("/people/invite/", {
        "full_name": "Wendy Worker", "email": "wendy@example.org",
        "organisation": world.icb_a.pk, "role": "commissioner"})
    assert response.status_code == 302

    message = wait_for_mail(celery_worker_process.mail_dir)
    assert "To: wendy@example.org" in message
    token = re.search(r"/invitation/([\w-]+)/", message).group(1)
    assert "commissioning.tasks.send_queued_email" in celery_worker_process.log.read_text()

    accept = client_for(world.outsider)  # any browser; the link is what matters
    accept.logout()
    result = accept.post(f"/invitation/{token}/", {"new_password1": "Worker-flow-2026!",
                                                   "new_password2": "Worker-flow-2026!"})
    assert result.status_code == 302
    user = User.objects.get(email="wendy@example.org")
    assert Membership.objects.filter(user=user, organisation=world.icb_a).exists()
