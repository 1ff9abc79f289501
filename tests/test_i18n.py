"""Every interface string has a Russian translation (Russian is the default language).

Each domain keeps its own catalogue (translations/<domain>/ru); Flask-Babel merges them, so
the same English string must not be translated differently in two of them (the last one
loaded would silently win): ambiguous words carry a context (pgettext).
"""

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ["-k", "_l", "-k", "_lp:1c,2", "-k", "lazy_pgettext:1c,2"]


def catalogues():
    for po in sorted(ROOT.glob("translations/*/ru/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            yield po.parts[-4], read_po(handle)


def russian_catalogue():
    translated = {}
    for _domain, catalogue in catalogues():
        for message in catalogue:
            if message.id and message.string and not message.fuzzy:
                translated[(message.context, message.id)] = message.string
    return translated


def test_every_string_has_a_russian_translation(tmp_path):
    pot = tmp_path / "all.pot"
    subprocess.run(
        [
            Path(sys.executable).parent / "pybabel",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            *KEYWORDS,
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        wanted = [m for m in read_po(handle) if m.id]
    translated = russian_catalogue()
    missing = [
        f"{m.id!r} [{m.context or ''}] ({m.locations[0][0]}:{m.locations[0][1]})"
        for m in wanted
        if (m.context, m.id) not in translated
    ]
    assert not missing, "untranslated (run `make messages DOMAIN=...`):\n" + "\n".join(missing)


def test_no_string_is_translated_two_ways():
    versions = defaultdict(dict)
    for domain, catalogue in catalogues():
        for message in catalogue:
            if message.id and message.string:
                versions[(message.context, message.id)][domain] = message.string
    clashes = {key: found for key, found in versions.items() if len(set(found.values())) > 1}
    assert not clashes, f"give these a context (pgettext) or one translation: {clashes}"


def test_translations_keep_their_placeholders():
    placeholder = re.compile(r"%\(\w+\)s")
    for (_context, msgid), msgstr in russian_catalogue().items():
        assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(msgstr)), msgid


def test_templates_follow_a_locale_switched_within_the_request(app):
    """Templates look their catalogue up once per request; an e-mail rendered in the
    recipient's language (force_locale) in the middle of a Russian page must not change
    the page, nor keep the page's language itself."""
    page = app.jinja_env.from_string(
        "{{ _('Catalogue') }} {{ pgettext('application status', 'New') }}"
    )
    with app.test_request_context("/"):
        assert page.render() == "Каталог Новая"
        with force_locale("en"):
            assert page.render() == "Catalogue New"
        assert page.render() == "Каталог Новая"
