"""The one billing refusal a caller must tell apart: a bank statement with wrong lines."""

from flask_babel import lazy_gettext as _l

from portal.errors import UserError


class StatementRejected(UserError):
    """A bank statement with wrong lines: nothing imported, every line reported."""

    def __init__(self, report):
        super().__init__(_l("Nothing was imported: correct the marked lines."))
        self.report = report
