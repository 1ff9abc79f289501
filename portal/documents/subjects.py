"""What an upload or a ticket may refer to: an order, a contract, a ticket ("subjects").

Each domain registers a loader for its own kind, so this module never imports another
domain's models: `register_subject("order", load_order_label)`. A loader takes
(organisation_id, object_id) and returns a display label, or None when the object does not
exist or belongs to another organisation.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.errors import UserError
from portal.request_guard import MAX_ID

SubjectLoader = Callable[[int, int], str | None]
NumberFinder = Callable[[int, str], int | None]
_LOADERS: dict[str, tuple[object, SubjectLoader]] = {}
# Optional: turn the number people see (order 2611-000001, contract ГП-52/23) into an id.
_FINDERS: dict[str, NumberFinder] = {}


class SubjectError(UserError):
    """A reference to an object the organisation may not use (a caller falls back on it)."""


@dataclass(frozen=True)
class Subject:
    kind: str
    object_id: int
    label: str


def register_subject(kind: str, loader: SubjectLoader, title=None, find_by_number=None) -> None:
    """Let uploads and tickets refer to objects of `kind` (title: e.g. _l("Order"))."""
    _LOADERS[kind] = (title or kind, loader)
    if find_by_number is not None:
        _FINDERS[kind] = find_by_number


def subject_kinds() -> list[tuple[str, object]]:
    """(kind, title) of every registered kind, for select fields."""
    return [(kind, title) for kind, (title, _) in sorted(_LOADERS.items())]


def is_registered(kind: str) -> bool:
    return kind in _LOADERS


def resolve_subject(organisation_id: int, kind: str | None, object_id) -> Subject | None:
    """The subject an organisation refers to, or None for "no subject"; refuse anything else."""
    if not kind and object_id in (None, ""):
        return None
    if not kind or kind not in _LOADERS:
        raise SubjectError(_l("This kind of object cannot be referred to."))
    reference = str(object_id).strip()
    if not reference.isdigit() and kind in _FINDERS:
        found = _FINDERS[kind](organisation_id, reference)
        reference = str(found) if found is not None else ""
        if not reference:
            raise SubjectError(_l("Your organisation has no such object: check the number."))
    try:
        object_id = int(reference)
    except (TypeError, ValueError) as error:
        raise SubjectError(_l("Enter the number of the object.")) from error
    if not 0 < object_id <= MAX_ID:  # past what an id column holds: no such object
        raise SubjectError(_l("Your organisation has no such object: check the number."))
    _, loader = _LOADERS[kind]
    label = loader(organisation_id, object_id)
    if label is None:
        raise SubjectError(_l("Your organisation has no such object: check the number."))
    return Subject(kind, object_id, str(label))
