"""Every interface string has a Russian translation (Russian is the default language)."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def russian_catalogue():
    translated = {}
    for po in sorted(ROOT.glob("translations/*/ru/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string and not message.fuzzy:
                    translated[message.id] = message.string
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
            "-k",
            "_l",
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
        f"{m.id!r} ({m.locations[0][0]}:{m.locations[0][1]})"
        for m in wanted
        if m.id not in translated
    ]
    assert not missing, "untranslated (run `make messages DOMAIN=...`):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\(\w+\)s")
    for msgid, msgstr in russian_catalogue().items():
        assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(msgstr)), msgid
