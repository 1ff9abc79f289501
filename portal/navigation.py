"""Menu entries and dashboard panels, registered by each domain and filtered per user.

A domain adds its menu entry with `register_menu(...)` when its blueprint is imported, and a
dashboard panel with `register_panel(...)`; base.html and the dashboard show only what the
current user's role, organisation kind and powers allow. The side menu shows the entries
under task headings: an entry names its `group`, one of GROUPS.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

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
    group: str = "other"  # the heading it sits under in the side menu (a key of GROUPS)
    icon: str = ""  # a Bootstrap icon: the entry is also a button in the top bar
    badge: "Callable[[object], int] | None" = None  # membership -> a count shown beside it

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


# The side menu's headings, in the order they appear; a user sees only those with entries.
GROUPS = {
    "clients": _l("Clients"),
    "purchasing": _l("Purchasing"),
    "sales": _l("Sales"),
    "gas": _l("Gas"),
    "finance": _l("Finance"),
    "documents": _l("Documents"),
    "catalogue": _l("Catalogue"),
    "service": _l("Support"),
    "other": _l("Other"),
}
_GROUP_RANK = {key: rank for rank, key in enumerate(GROUPS)}

MENU: list[MenuItem] = []
PANELS: list[Panel] = []


def register_menu(item: MenuItem) -> None:
    if item.group not in GROUPS:
        raise ValueError(f"menu group {item.group!r} is not one of {sorted(GROUPS)}")
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
    kinds = entry.kinds or _route_kinds(entry)
    if kinds and membership.organisation.kind not in kinds:
        return False
    return entry.power is None or membership.has(entry.power)


def _route_kinds(entry) -> tuple[str, ...]:
    """The organisation kinds the entry's route declares (access.power(..., kinds=...))."""
    endpoint = getattr(entry, "endpoint", None)
    view = current_app.view_functions.get(endpoint) if endpoint else None
    rule = getattr(view, "access_rule", None)
    return rule.kinds if rule is not None else ()


class ShownItem:
    """A menu entry as one kind of user sees it: its URL and label resolved once (url_for and
    the translation), every other attribute the MenuItem's."""

    __slots__ = ("item", "url", "label")

    def __init__(self, item: MenuItem):
        self.item = item
        self.url = item.url
        self.label = str(item.label)

    def __getattr__(self, name):
        return getattr(self.item, name)


class Menu(list):
    """The entries one kind of user sees, with their headings grouped once."""

    groups: list


# Menus already built, by everything that decides them (see _menu_key); a few dozen at most.
_MENUS: dict[tuple, Menu] = {}
_MENUS_LIMIT = 512


def _menu_key(user, membership) -> tuple:
    from flask import request
    from flask_babel import get_locale

    organisation = membership.organisation if membership is not None else None
    return (
        id(current_app._get_current_object()),
        request.script_root,
        str(get_locale()),
        user.staff_role,
        organisation.kind if organisation is not None else None,
        membership is None or membership.is_blocked,
        ",".join(sorted(membership.powers)) if membership is not None else "",
        len(MENU),
    )


def menu_for(user, membership):
    """The entries the user may see; built once per (role, organisation kind, powers,
    language) and reused: a page only marks the current entry and adds the counts."""
    if not user.is_authenticated:
        return []
    key = _menu_key(user, membership)
    menu = _MENUS.get(key)
    if menu is None:
        menu = Menu(ShownItem(item) for item in MENU if _visible(item, user, membership))
        menu.groups = grouped(menu)
        if len(_MENUS) >= _MENUS_LIMIT:
            _MENUS.clear()
        _MENUS[key] = menu
    return menu


def grouped(items) -> list[tuple[object, list[MenuItem]]]:
    """The main (not user-menu) entries under their headings: [(heading, entries)]."""
    if getattr(items, "groups", None) is not None:
        return items.groups
    groups: dict[str, list[MenuItem]] = {}
    for item in items:
        if not item.in_user_menu:
            groups.setdefault(item.group, []).append(item)
    keys = sorted(groups, key=_GROUP_RANK.__getitem__)
    return [(str(GROUPS[key]), groups[key]) for key in keys]


def current_url(items, path: str) -> str | None:
    """The entry the page belongs to: the longest entry URL the path starts with, so that
    «Первичные документы» (/settlements/documents) is current there, not «Лицевой счёт»
    (/settlements/) as well."""
    urls = [item.url for item in items if item.url != "/" and path.startswith(item.url)]
    return max(urls, key=len, default=None)


def badges_for(items, membership) -> dict[str, int]:
    """The counts beside the entries (e.g. the lines in the cart), each asked once per page."""
    if membership is None:
        return {}
    from portal.accounts import session_cache

    return {
        item.endpoint: session_cache.badge(item.endpoint, membership, item.badge)
        for item in items
        if item.badge is not None
    }


def panels_for(user, membership):
    return [panel for panel in PANELS if _visible(panel, user, membership)]
