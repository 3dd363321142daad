"""Queue an e-mail: saved with the change that causes it, sent by a worker."""

from __future__ import annotations

from django.template import Context
from django.template.loader import get_template

from commissioning import queueing
from commissioning.models import OutboundEmail
from commissioning.tasks import send_queued_email


def render_plain_text(template_name: str, context: dict) -> str:
    """Render a plain-text e-mail template. Autoescaping is for HTML: in a text e-mail it
    would turn "Alzheimer's Society" into "Alzheimer&#x27;s Society", so it is off here for
    every e-mail, whatever the template says."""
    return get_template(template_name).template.render(Context(context, autoescape=False))


def email_queue(*, subject: str, body: str, to: list[str]) -> OutboundEmail:
    """Record the e-mail in the current transaction and hand it to a worker after commit."""
    email = OutboundEmail.objects.create(subject=subject[:250], body=body, to=list(to))
    queueing.enqueue_on_commit(send_queued_email, email.pk)
    return email
