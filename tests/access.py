"""The registry the access matrix test walks.

Each domain keeps `tests/<domain>/access_cases.py` with `CASES = {endpoint: Case(...)}` for its
routes that take an object id. `build(organisation)` creates an object owned by that
organisation and returns the URL arguments; `power` is the power the route needs (None: any
member). Staff-only routes use `staff=True`: customers get 403 there. Staff routes that change
an organisation's data add `curated=True`: a manager who does not curate the owner is refused
(403), its curator and an admin are not.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    build: Callable
    power: object = None
    staff: bool = False
    curated: bool = False
    kind: str = "pharmacy"


# Public routes whose argument is a signed token, a language code or a consent's purpose, not an
# object id.
TOKEN_ROUTES = {
    "accounts.set_password",
    "onboarding.reply",
    "onboarding.renew_reply_link",
    "organisations.show_invitation",
    "accounts.set_language",
    "privacy.show_text",
}
