"""The billing room's domain error: a message for the user, optionally tied to a form field."""

from flask_babel import lazy_gettext as _l


class BillingError(ValueError):
    def __init__(self, message, field_name=None):
        super().__init__(str(message))
        self.message = message
        self.field_name = field_name


class StatementRejected(BillingError):
    """A bank statement with wrong lines: nothing imported, every line reported."""

    def __init__(self, report):
        super().__init__(_l("Nothing was imported: correct the marked lines."))
        self.report = report
