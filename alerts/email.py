"""Email delivery through the configured SMTP server (stdlib smtplib, run in a thread).

Plain text; STARTTLS and login when configured. Without AIZE_SMTP_HOST email deliveries
fail at once with a reason saying so (retrying cannot help).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from alerts.attempt import AttemptOutcome, describe_exception
from settings import Settings

# smtplib reports success without the final reply code; 250 is what "accepted" means.
SMTP_ACCEPTED = 250
NOT_CONFIGURED = "email delivery is not configured on this server (set AIZE_SMTP_HOST)"


@dataclass(frozen=True, slots=True)
class EmailRequest:
    to: str
    subject: str
    body: str
    event_id: str


async def send_email(settings: Settings, request: EmailRequest) -> AttemptOutcome:
    """Send one message; the outcome carries the SMTP reply code when the server refused."""
    if settings.smtp_host is None or settings.smtp_from is None:
        return AttemptOutcome.failure(NOT_CONFIGURED, permanent=True)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = request.to
    message["Subject"] = request.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rsplit("@", 1)[1])
    message["X-Aize-Event-Id"] = request.event_id
    message.set_content(request.body)
    try:
        await asyncio.to_thread(_send, settings, message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (None, b""))
        return AttemptOutcome.failure(f"recipient refused: {_text(reply)}", code)
    except smtplib.SMTPResponseException as exc:
        return AttemptOutcome.failure(
            f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}", exc.smtp_code
        )
    except (smtplib.SMTPException, OSError) as exc:
        return AttemptOutcome.failure(describe_exception(exc))
    return AttemptOutcome.success(SMTP_ACCEPTED)


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None  # checked by the caller
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user is not None and settings.smtp_password is not None:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
