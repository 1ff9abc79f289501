"""Job kinds: each queue task belongs to one, and each kind has its own concurrency limit."""

from flask_babel import lazy_gettext as _l

STATEMENTS = "statements"
DOCUMENTS = "documents"
MAIL = "mail"
WEBHOOKS = "webhooks"
IMPORTS = "imports"
OTHER = "other"

LABELS = {
    STATEMENTS: _l("Statements"),
    DOCUMENTS: _l("Document generation"),
    MAIL: _l("Mail"),
    WEBHOOKS: _l("Webhooks"),
    IMPORTS: _l("Imports"),
    OTHER: _l("Other jobs"),
}

# Jobs of one kind running at once, across all workers (PORTAL_QUEUE_LIMITS overrides any of
# them: "statements=2,mail=4"). 0 = no limit. With two workers of one thread each the defaults
# keep one worker free for mail and webhooks while statements pile up at month end.
DEFAULT_LIMITS = {STATEMENTS: 1, DOCUMENTS: 1, MAIL: 4, WEBHOOKS: 4, IMPORTS: 1, OTHER: 0}

# Task name -> kind. A domain adding a queue task names its kind here (unknown: OTHER).
TASK_KINDS = {
    "generate_statement": STATEMENTS,
    "send_payment_reminders": MAIL,
    "daily_payment_reminders": MAIL,
    "send_mail": MAIL,
    "deliver_webhook": WEBHOOKS,
    "deliver_due_webhooks": WEBHOOKS,
    "generate_document": DOCUMENTS,
    "run_import": IMPORTS,
}


def kind_of(task_name: str) -> str:
    # Huey names a task after its function, sometimes with its module in front.
    return TASK_KINDS.get(task_name.rsplit(".", 1)[-1], OTHER)


def parse_limits(text: str | None) -> dict[str, int]:
    """ "statements=2, mail=4" -> the defaults with those replaced; a bad entry is an error."""
    limits = dict(DEFAULT_LIMITS)
    for entry in (text or "").split(","):
        if not entry.strip():
            continue
        name, sep, value = entry.partition("=")
        name = name.strip()
        if not sep or name not in LABELS or not value.strip().isdigit():
            raise ValueError(
                f"PORTAL_QUEUE_LIMITS: {entry.strip()!r} is not <kind>=<number> "
                f"with a kind among {', '.join(LABELS)}"
            )
        limits[name] = int(value)
    return limits
