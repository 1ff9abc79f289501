"""One user-error type and one way to show it.

A service refuses what a person asked for by raising `UserError(message, field=None)`: the
message says what to fix, in the person's language (a lazy gettext string); `field` names the
form field it belongs to, if any. A view that catches it calls `show(error, form)`: the message
goes on that field of the form when the form has it, otherwise into a flash, and the request's
changes are rolled back (portal/transactions.py), also when the view then redirects.

A view that re-renders a refused form returns `form_page(...)`: the page, answered 422 when
the POST was refused (so the transaction rule rolls back what the view flushed), 200 otherwise.
A UserError no view caught becomes that same 422: a page with the message, or a problem
document under /api.
"""

from flask import flash, render_template, request

from portal import transactions


class UserError(ValueError):
    """Something a person asked for is refused; `message` tells them what to fix."""

    def __init__(self, message, field: str | None = None, **details):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.details = details


def show(error: UserError, form=None, default_field: str | None = None, category="error"):
    """Put the message on the form's field (the error's own, else `default_field`) or flash
    it; either way the request's changes are rolled back."""
    transactions.refuse()
    name = error.field or default_field
    target = getattr(form, name, None) if form is not None and name else None
    if target is not None and hasattr(target, "errors"):
        if isinstance(target.errors, dict):  # a FormField: its errors are per sub-field
            target.errors.setdefault("", []).append(str(error.message))
        else:
            target.errors = [*target.errors, str(error.message)]
        return
    flash(str(error.message), category)


def form_page(template: str, form=None, **context):
    """Render a form's page; a refused POST answers 422 (its changes are rolled back)."""
    refused = request.method == "POST" and (
        (form is not None and bool(form.errors)) or transactions.is_refused()
    )
    return render_template(template, form=form, **context), 422 if refused else 200


def register(app) -> None:
    """An uncaught UserError: the message and 422, never a 500."""
    from portal.api.problems import is_api_request, problem_response

    @app.errorhandler(UserError)
    def user_error(error):
        transactions.refuse()
        if is_api_request():
            errors = None
            if error.field:
                errors = [{"field": error.field, "message": str(error.message)}]
            return problem_response(422, str(error.message), errors=errors)
        return render_template("errors/422.html", error=error), 422
