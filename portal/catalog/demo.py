"""Demo catalogue: real-looking medicines, warehouses, stock, batches, prices, promotions.

Deterministic (a seeded random generator) and idempotent: a second run changes nothing.
"""

import io
import random
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from stdnum import ean
from werkzeug.datastructures import FileStorage

from portal.billing.models import VatCategory
from portal.catalog import certificates
from portal.catalog.models import (
    Category,
    CertificateKind,
    Item,
    ItemCertificate,
    ItemPrice,
    Manufacturer,
    OrganisationPricing,
    PriceList,
    Promotion,
)
from portal.extensions import db
from portal.inventory.models import Batch, Stock, Warehouse
from portal.organisations.models import Organisation

WAREHOUSES = [
    ("MSK", "Центральный склад, Москва", "Москва", 1, True),
    ("SPB", "Склад Санкт-Петербург", "Санкт-Петербург", 2, False),
    ("KZN", "Склад Казань", "Казань", 2, False),
    ("EKB", "Склад Екатеринбург", "Свердловская область", 3, False),
    ("NSK", "Склад Новосибирск", "Новосибирская область", 4, False),
]

MANUFACTURERS = {
    "Фармстандарт": "Россия",
    "Отисифарм": "Россия",
    "Озон": "Россия",
    "Верофарм": "Россия",
    "Биокад": "Россия",
    "Валента Фарм": "Россия",
    "Материа Медика": "Россия",
    "Эвалар": "Россия",
    "Татхимфармпрепараты": "Россия",
    "Гедеон Рихтер": "Венгрия",
    "KRKA": "Словения",
    "Тева": "Израиль",
    "Берлин-Хеми": "Германия",
    "Санофи": "Франция",
    "Байер": "Германия",
    "Sandoz": "Швейцария",
    "Novo Nordisk": "Дания",
    "Рекордати": "Италия",
}

# trade name, МНН, category, maker, [(form, strength, pack)], rx, vital, cold chain,
# VAT category (medicines and medical products are taxed at the reduced rate, others generally)
GENERAL, REDUCED, ZERO = VatCategory.GENERAL, VatCategory.REDUCED, VatCategory.ZERO
MEDICINES = [
    (
        "Парацетамол",
        "Парацетамол",
        "Анальгетики и жаропонижающие",
        "Фармстандарт",
        [("таблетки", "500 мг", 10), ("таблетки", "500 мг", 20), ("суппозитории", "250 мг", 10)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Нурофен",
        "Ибупрофен",
        "Анальгетики и жаропонижающие",
        "Рекордати",
        [
            ("таблетки покрытые оболочкой", "200 мг", 10),
            ("таблетки покрытые оболочкой", "200 мг", 20),
            ("суспензия для детей", "100 мг/5 мл", 1),
        ],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Ибупрофен",
        "Ибупрофен",
        "Анальгетики и жаропонижающие",
        "Озон",
        [("таблетки", "200 мг", 50), ("таблетки", "400 мг", 20)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Кеторол",
        "Кеторолак",
        "Анальгетики и жаропонижающие",
        "Отисифарм",
        [("таблетки", "10 мг", 20), ("раствор для инъекций", "30 мг/мл", 10)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Найз",
        "Нимесулид",
        "Анальгетики и жаропонижающие",
        "Отисифарм",
        [("таблетки", "100 мг", 20), ("гель", "1%", 1)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Но-шпа",
        "Дротаверин",
        "Спазмолитики",
        "Санофи",
        [("таблетки", "40 мг", 24), ("таблетки", "40 мг", 64), ("таблетки", "80 мг", 24)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Дротаверин",
        "Дротаверин",
        "Спазмолитики",
        "Озон",
        [("таблетки", "40 мг", 20), ("таблетки", "40 мг", 50)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Амоксиклав",
        "Амоксициллин + клавулановая кислота",
        "Антибиотики",
        "Sandoz",
        [
            ("таблетки покрытые оболочкой", "500 мг + 125 мг", 14),
            ("таблетки покрытые оболочкой", "875 мг + 125 мг", 14),
            ("порошок для суспензии", "250 мг + 62,5 мг/5 мл", 1),
        ],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Флемоксин Солютаб",
        "Амоксициллин",
        "Антибиотики",
        "Рекордати",
        [("таблетки диспергируемые", "500 мг", 20), ("таблетки диспергируемые", "1000 мг", 20)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Азитромицин",
        "Азитромицин",
        "Антибиотики",
        "Верофарм",
        [("капсулы", "250 мг", 6), ("таблетки", "500 мг", 3)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Сумамед",
        "Азитромицин",
        "Антибиотики",
        "Тева",
        [("таблетки", "500 мг", 3), ("капсулы", "250 мг", 6)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Цефтриаксон",
        "Цефтриаксон",
        "Антибиотики",
        "Верофарм",
        [
            ("порошок для приготовления раствора", "1 г", 1),
            ("порошок для приготовления раствора", "1 г", 50),
        ],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Ципролет",
        "Ципрофлоксацин",
        "Антибиотики",
        "Тева",
        [("таблетки", "500 мг", 10), ("капли глазные", "0,3%", 1)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Арбидол",
        "Умифеновир",
        "Противовирусные",
        "Фармстандарт",
        [("капсулы", "100 мг", 10), ("капсулы", "100 мг", 20), ("таблетки", "50 мг", 10)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Ингавирин",
        "Имидазолилэтанамид пентандиовой кислоты",
        "Противовирусные",
        "Валента Фарм",
        [("капсулы", "90 мг", 7), ("капсулы", "60 мг", 7)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Эргоферон",
        "Антитела к гамма-интерферону",
        "Противовирусные",
        "Материа Медика",
        [("таблетки для рассасывания", "", 20), ("таблетки для рассасывания", "", 40)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Ацикловир",
        "Ацикловир",
        "Противовирусные",
        "Татхимфармпрепараты",
        [("таблетки", "200 мг", 20), ("мазь", "5%", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Конкор",
        "Бисопролол",
        "Сердечно-сосудистые",
        "Санофи",
        [("таблетки покрытые оболочкой", "5 мг", 30), ("таблетки покрытые оболочкой", "10 мг", 50)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Бисопролол",
        "Бисопролол",
        "Сердечно-сосудистые",
        "Озон",
        [("таблетки", "5 мг", 30), ("таблетки", "10 мг", 30)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Эналаприл",
        "Эналаприл",
        "Сердечно-сосудистые",
        "Гедеон Рихтер",
        [("таблетки", "10 мг", 20), ("таблетки", "20 мг", 20)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Лозап",
        "Лозартан",
        "Сердечно-сосудистые",
        "Sandoz",
        [
            ("таблетки покрытые оболочкой", "50 мг", 30),
            ("таблетки покрытые оболочкой", "100 мг", 90),
        ],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Амлодипин",
        "Амлодипин",
        "Сердечно-сосудистые",
        "Озон",
        [("таблетки", "5 мг", 30), ("таблетки", "10 мг", 30)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Аторис",
        "Аторвастатин",
        "Сердечно-сосудистые",
        "KRKA",
        [
            ("таблетки покрытые оболочкой", "10 мг", 30),
            ("таблетки покрытые оболочкой", "20 мг", 30),
            ("таблетки покрытые оболочкой", "40 мг", 90),
        ],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Кардиомагнил",
        "Ацетилсалициловая кислота + магния гидроксид",
        "Сердечно-сосудистые",
        "Берлин-Хеми",
        [
            ("таблетки покрытые оболочкой", "75 мг + 15,2 мг", 30),
            ("таблетки покрытые оболочкой", "75 мг + 15,2 мг", 100),
        ],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Валидол",
        "Ментола раствор в ментил изовалерате",
        "Сердечно-сосудистые",
        "Татхимфармпрепараты",
        [("таблетки подъязычные", "60 мг", 10)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Омепразол",
        "Омепразол",
        "Желудочно-кишечные",
        "Озон",
        [("капсулы", "20 мг", 30)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Нольпаза",
        "Пантопразол",
        "Желудочно-кишечные",
        "KRKA",
        [
            ("таблетки кишечнорастворимые", "20 мг", 28),
            ("таблетки кишечнорастворимые", "40 мг", 28),
        ],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Мезим форте",
        "Панкреатин",
        "Желудочно-кишечные",
        "Берлин-Хеми",
        [("таблетки покрытые оболочкой", "", 20), ("таблетки покрытые оболочкой", "", 80)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Смекта",
        "Смектит диоктаэдрический",
        "Желудочно-кишечные",
        "Рекордати",
        [("порошок для суспензии", "3 г", 10), ("порошок для суспензии", "3 г", 30)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Линекс",
        "Бифидобактерии + лактобациллы + энтерококки",
        "Желудочно-кишечные",
        "Sandoz",
        [("капсулы", "", 16), ("капсулы", "", 32)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Лоперамид",
        "Лоперамид",
        "Желудочно-кишечные",
        "Озон",
        [("капсулы", "2 мг", 20)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Метформин",
        "Метформин",
        "Эндокринология",
        "Озон",
        [("таблетки", "500 мг", 60), ("таблетки", "850 мг", 60), ("таблетки", "1000 мг", 60)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Глюкофаж",
        "Метформин",
        "Эндокринология",
        "Берлин-Хеми",
        [
            ("таблетки покрытые оболочкой", "500 мг", 60),
            ("таблетки пролонгированные", "750 мг", 30),
        ],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "НовоРапид ФлексПен",
        "Инсулин аспарт",
        "Эндокринология",
        "Novo Nordisk",
        [("раствор для подкожного введения", "100 ЕД/мл 3 мл", 5)],
        True,
        True,
        True,
        REDUCED,
    ),
    (
        "Левемир ФлексПен",
        "Инсулин детемир",
        "Эндокринология",
        "Novo Nordisk",
        [("раствор для подкожного введения", "100 ЕД/мл 3 мл", 5)],
        True,
        True,
        True,
        REDUCED,
    ),
    (
        "Ринсулин Р",
        "Инсулин растворимый",
        "Эндокринология",
        "Фармстандарт",
        [("раствор для инъекций", "100 ЕД/мл 3 мл", 5)],
        True,
        True,
        True,
        REDUCED,
    ),
    (
        "Эутирокс",
        "Левотироксин натрия",
        "Эндокринология",
        "Берлин-Хеми",
        [("таблетки", "50 мкг", 100), ("таблетки", "100 мкг", 100)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Гриппол плюс",
        "Вакцина для профилактики гриппа",
        "Вакцины и иммунобиологические",
        "Фармстандарт",
        [("суспензия для инъекций", "0,5 мл", 1), ("суспензия для инъекций", "0,5 мл", 10)],
        True,
        True,
        True,
        REDUCED,
    ),
    (
        "Совигрипп",
        "Вакцина для профилактики гриппа",
        "Вакцины и иммунобиологические",
        "Биокад",
        [("эмульсия для инъекций", "0,5 мл", 1)],
        True,
        True,
        True,
        REDUCED,
    ),
    (
        "Генферон",
        "Интерферон альфа-2b + таурин + бензокаин",
        "Вакцины и иммунобиологические",
        "Биокад",
        [("суппозитории", "500 000 МЕ", 10), ("суппозитории", "1 000 000 МЕ", 10)],
        False,
        False,
        True,
        REDUCED,
    ),
    (
        "Лоратадин",
        "Лоратадин",
        "Противоаллергические",
        "Озон",
        [("таблетки", "10 мг", 10), ("таблетки", "10 мг", 30)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Зиртек",
        "Цетиризин",
        "Противоаллергические",
        "Рекордати",
        [("таблетки покрытые оболочкой", "10 мг", 7), ("капли для приема внутрь", "10 мг/мл", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Супрастин",
        "Хлоропирамин",
        "Противоаллергические",
        "Гедеон Рихтер",
        [("таблетки", "25 мг", 20), ("раствор для инъекций", "20 мг/мл", 5)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Амброксол",
        "Амброксол",
        "Средства от кашля и простуды",
        "Озон",
        [("таблетки", "30 мг", 20), ("сироп", "15 мг/5 мл", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Лазолван",
        "Амброксол",
        "Средства от кашля и простуды",
        "Санофи",
        [("таблетки", "30 мг", 20), ("раствор для ингаляций", "7,5 мг/мл", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "АЦЦ",
        "Ацетилцистеин",
        "Средства от кашля и простуды",
        "Sandoz",
        [("таблетки шипучие", "200 мг", 20), ("таблетки шипучие", "600 мг", 10)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Називин",
        "Оксиметазолин",
        "Средства от кашля и простуды",
        "Рекордати",
        [("спрей назальный", "0,05%", 1), ("капли назальные", "0,01%", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Ксилен",
        "Ксилометазолин",
        "Средства от кашля и простуды",
        "Озон",
        [("спрей назальный", "0,1%", 1), ("капли назальные", "0,05%", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Фенибут",
        "Аминофенилмасляная кислота",
        "Неврология",
        "Озон",
        [("таблетки", "250 мг", 20)],
        True,
        False,
        False,
        REDUCED,
    ),
    (
        "Глицин",
        "Глицин",
        "Неврология",
        "Озон",
        [("таблетки подъязычные", "100 мг", 50)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Мексидол",
        "Этилметилгидроксипиридина сукцинат",
        "Неврология",
        "Фармстандарт",
        [("таблетки покрытые оболочкой", "125 мг", 50), ("раствор для инъекций", "50 мг/мл", 10)],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Афобазол",
        "Фабомотизол",
        "Неврология",
        "Отисифарм",
        [("таблетки", "10 мг", 60)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Пенталгин",
        "Парацетамол + напроксен + кофеин + дротаверин + фенирамин",
        "Анальгетики и жаропонижающие",
        "Отисифарм",
        [("таблетки покрытые оболочкой", "", 12), ("таблетки покрытые оболочкой", "", 24)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Диклофенак",
        "Диклофенак",
        "Анальгетики и жаропонижающие",
        "Верофарм",
        [
            ("таблетки кишечнорастворимые", "50 мг", 20),
            ("гель", "1%", 1),
            ("раствор для инъекций", "25 мг/мл", 5),
        ],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Вольтарен Эмульгель",
        "Диклофенак",
        "Анальгетики и жаропонижающие",
        "Sandoz",
        [("гель", "1%", 1), ("гель", "2%", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Компливит",
        "Поливитамины + минералы",
        "Витамины и БАД",
        "Фармстандарт",
        [("таблетки покрытые оболочкой", "", 30), ("таблетки покрытые оболочкой", "", 60)],
        False,
        False,
        False,
        GENERAL,
    ),
    (
        "Аскорбиновая кислота",
        "Аскорбиновая кислота",
        "Витамины и БАД",
        "Озон",
        [("драже", "50 мг", 200), ("таблетки жевательные", "500 мг", 10)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Витамин D3 Аквадетрим",
        "Колекальциферол",
        "Витамины и БАД",
        "Эвалар",
        [("капли для приема внутрь", "15 000 МЕ/мл", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Магне B6",
        "Магния лактат + пиридоксин",
        "Витамины и БАД",
        "Санофи",
        [("таблетки покрытые оболочкой", "", 50), ("таблетки покрытые оболочкой", "", 90)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Эвалар Турбослим",
        "Комплекс растительных экстрактов",
        "Витамины и БАД",
        "Эвалар",
        [("капсулы", "", 30)],
        False,
        False,
        False,
        GENERAL,
    ),
    (
        "Перекись водорода",
        "Водорода пероксид",
        "Антисептики и перевязка",
        "Татхимфармпрепараты",
        [("раствор для местного применения", "3%", 1)],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Хлоргексидин",
        "Хлоргексидин",
        "Антисептики и перевязка",
        "Татхимфармпрепараты",
        [("раствор для местного применения", "0,05%", 1)],
        False,
        True,
        False,
        REDUCED,
    ),
    (
        "Мирамистин",
        "Бензилдиметил-миристоиламино-пропиламмоний",
        "Антисептики и перевязка",
        "Фармстандарт",
        [
            ("раствор для местного применения", "0,01% 150 мл", 1),
            ("раствор для местного применения", "0,01% 500 мл", 1),
        ],
        False,
        False,
        False,
        REDUCED,
    ),
    (
        "Бинт марлевый стерильный",
        "",
        "Антисептики и перевязка",
        "Фармстандарт",
        [("бинт", "7 м × 14 см", 1), ("бинт", "5 м × 10 см", 1)],
        False,
        False,
        False,
        GENERAL,
    ),
    (
        "Пластырь бактерицидный",
        "",
        "Антисептики и перевязка",
        "Верофарм",
        [("пластырь", "1,9 × 7,2 см", 20)],
        False,
        False,
        False,
        GENERAL,
    ),
    (
        "Маска медицинская трехслойная",
        "",
        "Медицинские изделия",
        "Верофарм",
        [("маска", "", 50)],
        False,
        False,
        False,
        GENERAL,
    ),
    (
        "Шприц 5 мл",
        "",
        "Медицинские изделия",
        "Верофарм",
        [("шприц с иглой", "0,7 × 40 мм", 100)],
        False,
        False,
        False,
        GENERAL,
    ),
    (
        "Тест на беременность",
        "",
        "Медицинские изделия",
        "Биокад",
        [("тест-полоска", "", 1)],
        False,
        False,
        False,
        GENERAL,
    ),
    (
        "Актрапид НМ",
        "Инсулин растворимый человеческий",
        "Эндокринология",
        "Novo Nordisk",
        [("раствор для инъекций", "100 ЕД/мл 10 мл", 1)],
        True,
        True,
        True,
        REDUCED,
    ),
    (
        "Ксарелто",
        "Ривароксабан",
        "Сердечно-сосудистые",
        "Байер",
        [
            ("таблетки покрытые оболочкой", "15 мг", 28),
            ("таблетки покрытые оболочкой", "20 мг", 28),
        ],
        True,
        True,
        False,
        REDUCED,
    ),
    (
        "Аспирин Кардио",
        "Ацетилсалициловая кислота",
        "Сердечно-сосудистые",
        "Байер",
        [
            ("таблетки кишечнорастворимые", "100 мг", 28),
            ("таблетки кишечнорастворимые", "100 мг", 56),
        ],
        False,
        True,
        False,
        REDUCED,
    ),
]


def _barcode(number: int) -> str:
    body = f"4607{number:08d}"
    return body + ean.calc_check_digit(body)


def _get_or_create(model, defaults=None, **keys):
    row = db.session.scalar(select(model).filter_by(**keys))
    if row is None:
        row = model(**keys, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row


def seed():
    if db.session.scalar(select(Item.id).limit(1)) is None:
        _seed_items()
    _seed_certificates()


def _seed_items():
    generator = random.Random(2026)  # noqa: S311 - demo data, not security
    warehouses = [
        _get_or_create(
            Warehouse,
            code=code,
            defaults={
                "name": name,
                "region": region,
                "lead_time_days": days,
                "is_central": central,
            },
        )
        for code, name, region, days, central in WAREHOUSES
    ]
    makers = {
        name: _get_or_create(Manufacturer, name=name, defaults={"country": country})
        for name, country in MANUFACTURERS.items()
    }
    base = _get_or_create(
        PriceList, code="BASE", defaults={"name": "Базовый прайс", "is_base": True}
    )
    chain = _get_or_create(
        PriceList, code="CHAIN", defaults={"name": "Сетевой прайс", "is_base": False}
    )
    today = date.today()
    number = 0
    items = []
    for trade, generic, category_name, maker, variants, rx, vital, cold, vat in MEDICINES:
        category = _get_or_create(Category, name=category_name)
        anchor = generator.randint(40, 900) if not cold else generator.randint(700, 4500)
        # A bigger pack of the same form and strength costs more, a little less per unit.
        smallest = {}
        for form, strength, pack in variants:
            smallest[form, strength] = min(pack, smallest.get((form, strength), pack))
        for form, strength, pack in variants:
            # Each variant in two packagings sold by the supplier: single packs and a carton.
            for carton in (False, True):
                number += 1
                multiple = 1
                minimum = 1
                if carton:
                    multiple = generator.choice((5, 10, 12))
                    minimum = multiple
                item = Item(
                    sku=f"{'K' if carton else 'A'}{number:05d}",
                    trade_name=trade,
                    generic_name=generic or None,
                    dosage_form=form,
                    strength=strength or None,
                    pack_size=pack,
                    manufacturer=makers[maker],
                    category=category,
                    barcode=_barcode(number),
                    is_rx=rx,
                    is_vital=vital,
                    is_cold_chain=cold,
                    storage_conditions=(
                        "При температуре от 2 до 8 °C, не замораживать"
                        if cold
                        else "При температуре не выше 25 °C, в защищённом от света месте"
                    ),
                    vat_category=vat,
                    description=(
                        f"{trade} ({generic or 'медицинское изделие'}), {form}"
                        f"{', ' + strength if strength else ''}. "
                        + ("Отпускается по рецепту. " if rx else "Безрецептурный отпуск. ")
                        + ("Входит в перечень ЖНВЛП." if vital else "")
                    ).strip(),
                    min_quantity=minimum,
                    order_multiple=multiple,
                )
                item.refresh_search_text()
                db.session.add(item)
                items.append((item, round(anchor * (pack / smallest[form, strength]) ** 0.85)))
    db.session.flush()
    for item, anchor in items:
        price = Decimal(anchor) + Decimal(generator.randint(0, 99)) / 100
        db.session.add(ItemPrice(price_list_id=base.id, item_id=item.id, price=price))
        if generator.random() < 0.5:
            db.session.add(
                ItemPrice(
                    price_list_id=chain.id,
                    item_id=item.id,
                    price=(price * Decimal("0.93")).quantize(Decimal("0.01")),
                )
            )
        for warehouse in warehouses:
            if warehouse.code != "MSK" and generator.random() < 0.35:
                continue
            # Some items are out of stock or nearly so, as in a real catalogue.
            quantity = generator.choice((0, 3, 12, 40, 120, 300, 800))
            quantity -= quantity % item.order_multiple
            db.session.add(Stock(item_id=item.id, warehouse_id=warehouse.id, quantity=quantity))
            remaining = quantity
            for index in range(generator.randint(1, 3)):
                if remaining <= 0:
                    break
                part = remaining if index == 2 else max(remaining // 2, 1)
                db.session.add(
                    Batch(
                        item_id=item.id,
                        warehouse_id=warehouse.id,
                        series=f"{generator.randint(100000, 999999)}{chr(0x410 + index)}",
                        expires_on=today + timedelta(days=generator.randint(90, 1100)),
                        quantity=part,
                    )
                )
                remaining -= part
    promoted = generator.sample([i for i, _a in items], 12)
    for index, item in enumerate(promoted):
        starts = today - timedelta(days=5) if index < 9 else today + timedelta(days=10)
        if index == 11:  # one finished promotion: it must not apply any more
            starts = today - timedelta(days=40)
        db.session.add(
            Promotion(
                item_id=item.id,
                title=f"Скидка на {item.trade_name}",
                discount_percent=Decimal(generator.choice((5, 7, 10, 15))),
                starts_on=starts,
                ends_on=starts + timedelta(days=25),
            )
        )
    pharmacy = db.session.scalar(select(Organisation).where(Organisation.inn == "7728168971"))
    if pharmacy is not None:
        _get_or_create(
            OrganisationPricing,
            organisation_id=pharmacy.id,
            defaults={"price_list_id": chain.id, "discount_percent": Decimal("3")},
        )
    db.session.flush()


# SKU, kind, number, valid for (days from today; negative: already expired).
DEMO_CERTIFICATES = [
    ("A00001", CertificateKind.DECLARATION, "ЕАЭС N RU Д-RU.РА01.В.10421/25", 700),
    ("A00001", CertificateKind.CERTIFICATE, "РОСС RU.0001.11ЛС05.00734", -30),
    ("A00003", CertificateKind.DECLARATION, "ЕАЭС N RU Д-RU.РА02.В.55120/26", 1000),
    ("K00002", CertificateKind.CERTIFICATE, "РОСС RU.0001.11ЛС05.01288", 400),
]
DEMO_CERTIFICATE_TITLES = {
    CertificateKind.CERTIFICATE: "Сертификат соответствия",
    CertificateKind.DECLARATION: "Декларация о соответствии",
}
DEMO_CERTIFICATION_BODY = "ООО «Центр сертификации лекарственных средств»"


def _seed_certificates():
    """A few generated PDF certificates, added only where the item has none of that number."""
    from portal.reports.pdf import render_pdf

    today = date.today()
    for sku, kind, number, days in DEMO_CERTIFICATES:
        item = db.session.scalar(select(Item).where(Item.sku == sku))
        if item is None:
            continue
        exists = db.session.scalar(
            select(ItemCertificate.id).where(
                ItemCertificate.item_id == item.id,
                ItemCertificate.kind == kind,
                ItemCertificate.number == number,
            )
        )
        if exists is not None:
            continue
        valid_until = today + timedelta(days=days)
        with current_app.test_request_context():
            pdf = render_pdf(
                "catalog/certificate_demo_pdf.html",
                title=DEMO_CERTIFICATE_TITLES[kind],
                number=number,
                item=item,
                issued_by=DEMO_CERTIFICATION_BODY,
                valid_until=valid_until,
            )
        # The same checks and storage as a staff upload: the demo proves the real path.
        certificates.add_certificate(
            item,
            None,
            kind=kind,
            number=number,
            issued_by=DEMO_CERTIFICATION_BODY,
            valid_until=valid_until,
            file_storage=FileStorage(io.BytesIO(pdf), filename=f"{kind}-{item.sku}.pdf"),
        )
