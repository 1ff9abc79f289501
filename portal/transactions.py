"""One transaction rule: a request commits once, at its boundary.

`install()` (called by create_app) ends every request's transaction in one place:

- the view answered below 400 and did not refuse: COMMIT;
- the view answered 400 or more (a refused form answers 422), raised, or called `refuse()`
  (a UserError shown as a flash before a redirect): ROLLBACK of whatever it wrote;
- except what the view marked with `keep_on_refusal()`: the few facts that must stay although
  the request is refused (a failed sign-in counted, a security event audited).

Views and services do not call commit() or rollback(). CLI commands and queue jobs have no
request: they run their work inside `unit_of_work()`, the same rule for a block.

A refused request that wrote nothing ends with COMMIT too: for the data the two are the same,
but psycopg forgets every prepared statement at a ROLLBACK, so a 404 would throw away the
plans each connection keeps for the statements it runs most. What counts as writing is known
from the ORM session itself (a flush, or an INSERT/UPDATE/DELETE or textual statement run
through it), not from the SQL text.
"""

from contextlib import contextmanager, suppress

from flask import Flask, g, has_request_context
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

WROTE = "portal_session_wrote"
_REFUSED = "portal_request_refused"
_KEEP = "portal_keep_on_refusal"


def refuse() -> None:
    """Roll this request's changes back even though it answers with a redirect."""
    if has_request_context():
        setattr(g, _REFUSED, True)


def is_refused() -> bool:
    return has_request_context() and g.get(_REFUSED, False)


def keep_on_refusal() -> None:
    """Commit this request's changes even though it is refused (security events only)."""
    if has_request_context():
        setattr(g, _KEEP, True)


def session_wrote(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get(WROTE))


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state):
    if not state.is_select:  # INSERT/UPDATE/DELETE, or text() whose effect is unknown
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    if transaction.parent is None:  # the outermost one: the next transaction starts clean
        session.info.pop(WROTE, None)


def end_request(db: SQLAlchemy, status: int) -> None:
    session = db.session()
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return
    refused = status >= 400 or g.get(_REFUSED, False)
    if refused and session_wrote(session) and not g.get(_KEEP, False):
        session.rollback()
    else:
        session.commit()  # a failure here is the request's failure: a 500, nothing kept


def install(app: Flask, db: SQLAlchemy) -> None:
    @app.after_request
    def end_request_transaction(response):
        try:
            end_request(db, response.status_code)
        except SQLAlchemyError as error:
            # The commit failed (the database went away, a constraint): nothing is kept, and
            # the answer is the one the app's handlers give that error (503 for an outage).
            with suppress(SQLAlchemyError):
                db.session.rollback()
            return app.make_response(app.handle_user_exception(error))
        return response


@contextmanager
def unit_of_work(db_: SQLAlchemy | None = None):
    """The request rule for a CLI command or a queue job: commit if the block ends, roll back
    if it raises."""
    from portal.extensions import db as portal_db

    session = (db_ or portal_db).session
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()
