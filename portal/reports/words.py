"""Amounts in Russian words for invoices and statements ("Сумма прописью")."""

from num2words import num2words

from portal.money import to_money


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
