"""Queue an e-mail: saved with the change that causes it, sent by a worker."""

from __future__ import annotations

from commissioning import queueing
from commissioning.models import OutboundEmail


def email_queue(*, subject: str, body: str, to: list[str]) -> OutboundEmail:
    """Record the e-mail in the current transaction and hand it to a worker after commit."""
    from commissioning.tasks import send_queued_email

    email = OutboundEmail.objects.create(subject=subject[:250], body=body, to=list(to))
    queueing.enqueue_on_commit(send_queued_email, email.pk)
    return email
