"""Checks of the supplier's requisites printed on invoices, УПД and statements."""

import re

from stdnum.ru import inn, ogrn

KPP = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")
WEIGHTS = ((7, 1, 3) * 8)[:23]  # 3 digits of the BIK + 20 of the account


def _control_key_ok(prefix: str, account: str) -> bool:
    """The Bank of Russia's control key of a 20-digit account (Положение ЦБ № 579-П)."""
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 10 == 0


def requisite_problems(supplier: dict) -> list[str]:
    """What is wrong with the requisites (empty when every checksum and format holds)."""
    problems = []
    if not (inn.is_valid(supplier.get("inn", "")) and len(supplier["inn"]) == 10):
        problems.append("INN: not a valid 10-digit INN of an organisation")
    if not KPP.match(supplier.get("kpp", "")):
        problems.append("KPP: not 9 characters NNNNPPNNN")
    if not ogrn.is_valid(supplier.get("ogrn", "")):
        problems.append("OGRN: the check digit does not match")
    bik = supplier.get("bik", "")
    account, corr = supplier.get("account", ""), supplier.get("corr_account", "")
    if not re.fullmatch(r"04\d{7}", bik):
        problems.append("BIK: not 9 digits starting with 04")
    elif not (re.fullmatch(r"\d{20}", account) and _control_key_ok(bik[-3:], account)):
        problems.append("Account: the control key does not match the BIK")
    elif not (
        re.fullmatch(r"30101\d{15}", corr)
        and corr.endswith(bik[-3:])
        and _control_key_ok("0" + bik[4:6], corr)
    ):
        problems.append("Correspondent account: not 30101… ending with the BIK's last digits")
    for key in ("director_name", "director_position", "accountant_name", "accountant_position"):
        if not (supplier.get(key) or "").strip():
            problems.append(f"{key}: empty (signature lines need it)")
    return problems
