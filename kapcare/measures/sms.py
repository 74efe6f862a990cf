"""Sending text messages. The practice plugs in its provider through KAPCARE_SMS_SENDER."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> None: ...


class LoggingSmsSender:
    """Sends nothing: records that a message would have gone out. The log line holds neither
    the number nor the text (the text carries a link's secret), only a reference."""

    def send(self, *, to: str, text: str, reference: str) -> None:
        log.info(
            "SMS not sent (no SMS provider configured): %s, %d characters", reference, len(text)
        )


def sms_sender() -> SmsSender:
    sender: SmsSender = import_string(settings.SMS_SENDER)()
    return sender
