"""No PHI in application logs: query strings are cut from request lines."""

from __future__ import annotations

import logging

from kapcare.core.logging import StripQueryStrings


def make_record(msg: str, args: tuple[object, ...] | None = None) -> logging.LogRecord:
    return logging.LogRecord(
        name="django.server",
        level=logging.INFO,
        pathname=__file__,
        lineno=1,
        msg=msg,
        args=args,
        exc_info=None,
    )


def test_query_string_removed_from_a_request_line() -> None:
    record = make_record(
        '"%s" %s %s', ("GET /clients/?q=Jane+Doe&status=active HTTP/1.1", 200, 512)
    )
    assert StripQueryStrings().filter(record) is True
    message = record.getMessage()
    assert message == '"GET /clients/?[redacted] HTTP/1.1" 200 512'
    assert "Jane" not in message
    assert "Doe" not in message
    assert "status=active" not in message


def test_query_string_in_the_message_itself_is_removed() -> None:
    record = make_record("Not Found: /clients/search?name=Jamie%20Quinlan")
    StripQueryStrings().filter(record)
    assert record.getMessage() == "Not Found: /clients/search?[redacted]"


def test_other_messages_are_left_alone() -> None:
    record = make_record("Starting worker %s on queues %s", ("abc123", "default"))
    assert StripQueryStrings().filter(record) is True
    assert record.msg == "Starting worker %s on queues %s"
    assert record.args == ("abc123", "default")
    assert record.getMessage() == "Starting worker abc123 on queues default"


def test_the_filter_is_on_the_console_handler() -> None:
    from django.conf import settings

    filters = settings.LOGGING["handlers"]["console"]["filters"]
    assert filters == ["no_query_strings"]
    assert (
        settings.LOGGING["filters"]["no_query_strings"]["()"]
        == "kapcare.core.logging.StripQueryStrings"
    )


def test_tracebacks_keep_the_frames_but_not_the_message() -> None:
    from kapcare.core.logging import SafeFormatter

    def fail(detail: str) -> None:
        raise ValueError(detail)

    detail = "Jamie Quinlan, born 1984-06-02"  # data lives in variables, not in code lines
    try:
        fail(detail)
    except ValueError:
        import sys

        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/clients/",),
            sys.exc_info(),
        )
    text = SafeFormatter("%(message)s").format(record)
    assert "Internal Server Error: /clients/" in text
    assert "in fail" in text  # the frame is kept
    assert "builtins.ValueError" in text
    assert "Quinlan" not in text
    assert "1984" not in text


def test_the_configured_console_handler_uses_the_safe_formatter() -> None:
    from django.conf import settings

    assert settings.LOGGING["formatters"]["plain"]["()"] == "kapcare.core.logging.SafeFormatter"
    handler_formatter = settings.LOGGING["handlers"]["console"]["formatter"]
    assert handler_formatter == "plain"
