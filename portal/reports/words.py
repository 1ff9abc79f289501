"""Amounts and dates in Russian words for invoices, documents and statements ("Сумма
прописью", «30 апреля 2026 г.»): documents are Russian by law, whatever the UI language."""

from num2words import num2words

from portal.money import to_money

# Month names as documents write them: «30 апреля» (genitive), «апрель 2026 г.» (nominative).
MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
MONTHS_NOMINATIVE = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)


def _plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def rubles_in_words(amount) -> str:
    """Decimal('1234.50') -> 'Одна тысяча двести тридцать четыре рубля 50 копеек'."""
    amount = to_money(amount)
    sign = "Минус " if amount < 0 else ""
    amount = abs(amount)
    rubles = int(amount)
    kopecks = int((amount - rubles) * 100)
    words = num2words(rubles, lang="ru")
    text = f"{words} {_plural(rubles, 'рубль', 'рубля', 'рублей')} {kopecks:02d} " + _plural(
        kopecks, "копейка", "копейки", "копеек"
    )
    return sign + text if sign else text[0].upper() + text[1:]
