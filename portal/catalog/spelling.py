"""Other ways a buyer may have typed a query word: on the wrong keyboard layout (ЙЦУКЕН and
QWERTY share the keys) or in Latin letters for a Russian name («Nurofen», «paracetamol») and
the reverse («сандоз» for Sandoz).

The search tries these only when the words as typed find nothing (portal.catalog.search).
Transliteration is ambiguous in the Latin-to-Cyrillic direction: «c» is «ц» in
«paracetamol» and «к» in «smecta», «y» is «ы», «и» or «й»; so several spellings are
proposed, the likeliest first, and the catalogue decides (a spelling is kept when an item
has it; near spellings are found by the trigram word list as for any typo).
"""

import itertools
import re

import cyrtranslit

# The same keys on both layouts (unshifted and shifted), Russian ЙЦУКЕН against US QWERTY.
_QWERTY = "`qwertyuiop[]asdfghjkl;'zxcvbnm,.~{}:\"<>"
_JCUKEN = "ёйцукенгшщзхъфывапролджэячсмитьбюЁХЪЖЭБЮ"
_TO_CYRILLIC = str.maketrans(_QWERTY, _JCUKEN)
_TO_LATIN = str.maketrans(_JCUKEN[:33], _QWERTY[:33])  # the unshifted keys
_LATIN_KEYS = frozenset(_QWERTY) | frozenset("abcdefghijklmnopqrstuvwxyz")
_CYRILLIC_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)*")
_LATIN_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")

# Latin letters (and pairs) read as Russian ones, most likely reading first: the usual
# passport/ICAO and English-language spellings of Russian drug names. Longest match first.
_LATIN_SOUNDS = {
    "shch": ["щ"],
    "sch": ["щ", "сч"],
    "zh": ["ж"],
    "kh": ["х"],
    "ch": ["ч", "х"],
    "sh": ["ш"],
    "ts": ["ц", "тс"],
    "tz": ["ц"],
    "ya": ["я"],
    "ja": ["я"],
    "yu": ["ю"],
    "ju": ["ю"],
    "yo": ["е"],
    "jo": ["е"],
    "ye": ["е"],
    "ph": ["ф"],
    "th": ["т"],
    "ck": ["к"],
    "qu": ["кв"],
    "x": ["кс"],
    "y": ["и", "ы", "й"],
    "j": ["й", "дж"],
    "e": ["е", "э"],
    "h": ["х", "г"],
    "w": ["в"],
    "q": ["к"],
    "i": ["и", "й"],
    "a": ["а"],
    "b": ["б"],
    "d": ["д"],
    "f": ["ф"],
    "g": ["г"],
    "k": ["к"],
    "l": ["л"],
    "m": ["м"],
    "n": ["н"],
    "o": ["о"],
    "p": ["п"],
    "r": ["р"],
    "s": ["с"],
    "t": ["т"],
    "u": ["у"],
    "v": ["в"],
    "z": ["з"],
    "-": ["-"],
}
_SOUNDS_BY_LENGTH = sorted(_LATIN_SOUNDS, key=len, reverse=True)
# How many Cyrillic readings of one Latin word are tried at most.
MAX_READINGS = 6


def keyboard_swapped(word: str) -> str | None:
    """The word as it reads on the other layout («ytdhjaty» -> «нурофен», «ыфтвщя» ->
    «sandoz»); None when it is not made of one layout's letter keys."""
    if len(word) < 2:
        return None
    if all(c in _LATIN_KEYS for c in word) and any("a" <= c <= "z" for c in word):
        return word.translate(_TO_CYRILLIC).lower().replace("ё", "е")
    if _CYRILLIC_WORD.fullmatch(word.replace("-", "")):
        swapped = word.translate(_TO_LATIN)
        return swapped if swapped != word else None
    return None


def latin_readings(word: str) -> list[str]:
    """Russian spellings of a Latin word, likeliest first («paracetamol» -> «парацетамол»,
    «smecta» -> «смекта», «loratadine» -> «лоратадин»)."""
    if len(word) < 3 or not _LATIN_WORD.fullmatch(word):
        return []
    choices = []
    position = 0
    while position < len(word):
        sound = next((s for s in _SOUNDS_BY_LENGTH if word.startswith(s, position)), "c")
        if sound == "c":  # soft before e, i, y («цетиризин»), hard elsewhere («смекта»)
            soft = word[position + 1 : position + 2] in ("e", "i", "y")
            choices.append(["ц", "к"] if soft else ["к", "ц"])
            position += 1
            continue
        choices.append(_LATIN_SOUNDS[sound])
        position += len(sound)
    readings = _combinations(choices)
    if word.endswith("e") and len(word) > 4:  # the silent English «-ine», «-one»
        readings = [spelling for r in readings for spelling in (r, r[:-1])]
    readings.append(cyrtranslit.to_cyrillic(word, "ru").replace("ё", "е"))
    kept = [r for r in dict.fromkeys(readings) if _CYRILLIC_WORD.fullmatch(r)]
    return kept[:MAX_READINGS]


def _combinations(choices: list[list[str]]) -> list[str]:
    """Spellings from per-sound options: the first choice everywhere, then one second
    choice (earlier sounds first), then two."""
    first = [options[0] for options in choices]
    ambiguous = [(i, option) for i, options in enumerate(choices) for option in options[1:]]
    spellings = ["".join(first)]
    for count in (1, 2):
        for picks in itertools.combinations(ambiguous, count):
            if len({i for i, _option in picks}) < count:
                continue  # two readings of the same sound
            spelling = list(first)
            for i, option in picks:
                spelling[i] = option
            spellings.append("".join(spelling))
            if len(spellings) >= MAX_READINGS * 2:
                return spellings
    return spellings


def cyrillic_readings(word: str) -> list[str]:
    """Latin spellings of a Cyrillic word, for makers and brands written in Latin
    («сандоз» -> «sandoz», «хеми» -> «hemi», «khemi»)."""
    if len(word) < 3 or not _CYRILLIC_WORD.fullmatch(word):
        return []
    plain = cyrtranslit.to_latin(word, "ru").replace("'", "")
    english = plain.replace("h", "kh").replace("j", "y").replace("shkh", "shch")
    return list(dict.fromkeys([plain, english, plain.replace("c", "ts")]))


def other_spellings(word: str) -> list[str]:
    """The word on the other keyboard layout and in the other alphabet, without the word."""
    found = []
    swapped = keyboard_swapped(word)
    if swapped:
        found.append(swapped)
    found += latin_readings(word) + cyrillic_readings(word)
    return [w for w in dict.fromkeys(found) if w != word]
