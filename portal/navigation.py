"""Menu entries and dashboard panels, registered by each domain and filtered per user.

A domain adds its menu entry with `register_menu(...)` when its blueprint is imported, and a
dashboard panel with `register_panel(...)`; base.html and the dashboard show only what the
current user's role, organisation kind and powers allow.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import url_for

if TYPE_CHECKING:  # a runtime import would make a cycle: organisations registers menu items
    from portal.organisations.models import Power


@dataclass(frozen=True)
class MenuItem:
    label: object  # a lazy_gettext string
    endpoint: str
    power: "Power | None" = None
    staff: bool = False
    admin_only: bool = False
    kinds: tuple[str, ...] = ()  # organisation kinds; empty means all
    order: int = 100
    in_user_menu: bool = False  # account matters go under the user's name, not the main bar

    @property
    def url(self):
        return url_for(self.endpoint)


@dataclass(frozen=True)
class Panel:
    """A dashboard panel: a template and a function returning its context (or None to hide)."""

    template: str
    context: object
    power: "Power | None" = None
    staff: bool = False
    kinds: tuple[str, ...] = ()
    order: int = 100
    extra: dict = field(default_factory=dict)


MENU: list[MenuItem] = []
PANELS: list[Panel] = []


def register_menu(item: MenuItem) -> None:
    if item not in MENU:
        MENU.append(item)
        MENU.sort(key=lambda i: i.order)


def register_panel(panel: Panel) -> None:
    if panel not in PANELS:
        PANELS.append(panel)
        PANELS.sort(key=lambda p: p.order)


def _visible(entry, user, membership) -> bool:
    if entry.staff:
        return user.is_staff and (not getattr(entry, "admin_only", False) or user.is_admin)
    if user.is_staff or membership is None:
        return False
    if entry.kinds and membership.organisation.kind not in entry.kinds:
        return False
    return entry.power is None or membership.has(entry.power)


def menu_for(user, membership):
    if not user.is_authenticated:
        return []
    return [item for item in MENU if _visible(item, user, membership)]


def panels_for(user, membership):
    return [panel for panel in PANELS if _visible(panel, user, membership)]
