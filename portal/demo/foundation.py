"""The demo's foundation: staff, the pharmacy and the gas plant, their people, the offer and
three partner applications. Idempotent."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import OfferVersion, StaffRole, User
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.onboarding.models import Application
from portal.organisations.models import ALL_POWERS, DeliveryAddress, Membership, Organisation, Power
from portal.privacy.consents import accept, current_version, ensure_initial_versions
from portal.privacy.models import ConsentPurpose

# One line per clause: the page keeps the text's own line breaks (white-space: pre-wrap), so
# a clause wrapped here would break mid-sentence on every screen width.
OFFER_TEXT = (
    "1. Общие положения\n"
    "1.1. Настоящая оферта определяет условия использования личного кабинета партнёра "
    "и порядок заказа товаров и услуг поставщика.\n"
    "1.2. Акцепт оферты совершается отметкой «Принимаю» при первом входе в личный кабинет.\n"
    "\n"
    "2. Обязанности сторон\n"
    "2.1. Поставщик обеспечивает доступ к личному кабинету, актуальность каталога и цен.\n"
    "2.2. Покупатель обеспечивает достоверность передаваемых данных (заказы, показания "
    "приборов учёта) и сохранность своих учётных данных.\n"
)


def _user(login, full_name, email, *, staff_role=None, phone=None):
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        user = User(
            login=login, full_name=full_name, email=email, staff_role=staff_role, phone=phone
        )
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        db.session.flush()
    return user


def _organisation(inn, **fields):
    organisation = db.session.scalar(select(Organisation).where(Organisation.inn == inn))
    if organisation is None:
        address = fields.pop("delivery_address")
        organisation = Organisation(inn=inn, **fields)
        organisation.addresses.append(
            DeliveryAddress(address=address, region=fields.get("region"), is_default=True)
        )
        db.session.add(organisation)
        db.session.flush()
    return organisation


def _member(user, organisation, powers):
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )
    if membership is None:
        membership = Membership(user=user, organisation=organisation)
        membership.powers = powers
        db.session.add(membership)
    return membership


def seed():
    admin = _user(
        "admin", "Смирнова Ольга Викторовна", "admin@supplier.example", staff_role=StaffRole.ADMIN
    )
    manager = _user(
        "manager",
        "Кузнецов Алексей Петрович",
        "manager@supplier.example",
        staff_role=StaffRole.MANAGER,
        phone="+74951234567",
    )
    pharmacy = _organisation(
        "7728168971",
        legal_name="ООО «Аптека Здоровье»",
        kind="pharmacy",
        kpp="772801001",
        ogrn="1027700132195",
        legal_address="117342, г. Москва, ул. Бутлерова, д. 17",
        delivery_address="117342, г. Москва, ул. Бутлерова, д. 17, аптека №1",
        region="Москва",
        phone="+74957654321",
        email="zakaz@apteka-zdorovie.example",
        credit_limit=Decimal("500000.00"),
        manager_id=manager.id,
    )
    if pharmacy.supply_contract_number is None:
        # The contract the invoices name as their basis; 30 days of deferral under it.
        pharmacy.supply_contract_number = "П-2026-0001"
        pharmacy.supply_contract_date = date(2026, 1, 12)
        pharmacy.payment_deferral_days = 30
    if len(pharmacy.addresses) == 1:
        pharmacy.addresses.append(
            DeliveryAddress(
                address="125009, г. Москва, ул. Тверская, д. 8, аптека №2", region="Москва"
            )
        )
    gas = _organisation(
        "5260134566",
        legal_name="АО «Волжский завод ТехГаз»",
        kind="gas",
        kpp="526001001",
        ogrn="1035205388349",
        legal_address="603001, г. Нижний Новгород, ул. Рождественская, д. 3",
        delivery_address="603001, г. Нижний Новгород, ул. Рождественская, д. 3",
        region="Нижегородская область",
        phone="+78312345678",
        email="energo@tehgaz.example",
        manager_id=manager.id,
    )
    buyer = _user(
        "buyer", "Иванова Мария Сергеевна", "buyer@apteka-zdorovie.example", phone="+79161234567"
    )
    colleague = _user("buyer.limited", "Петров Игорь Андреевич", "petrov@apteka-zdorovie.example")
    gas_user = _user(
        "gas", "Соколов Дмитрий Николаевич", "energo@tehgaz.example", phone="+79031234567"
    )
    _member(buyer, pharmacy, ALL_POWERS)
    _member(colleague, pharmacy, {Power.VIEW_PRICES})
    _member(gas_user, gas, ALL_POWERS)

    if db.session.scalar(select(OfferVersion.id).limit(1)) is None:
        db.session.add(
            OfferVersion(
                version="2026-01",
                title="Договор-оферта на поставку",
                text=OFFER_TEXT,
                published_by_id=admin.id,
            )
        )
    # The consent texts and the policy (published by the migration; here for a database built
    # without it). Demo users give the consent at their first sign-in, like the offer.
    ensure_initial_versions()
    if db.session.scalar(select(Application.id).limit(1)) is None:
        applications = [
            Application(
                representative_name="Орлова Анна Игоревна",
                organisation_name="ООО «Аптека на Садовой»",
                email="orlova@sadovaya.example",
                phone="+78121234567",
                region="Санкт-Петербург",
                kind="pharmacy",
                inn="7802345676",
                licence_number="ЛО-78-02-012345",
                comment="Сеть из 3 аптек",
            ),
            Application(
                representative_name="Фёдоров Павел Олегович",
                organisation_name="ООО «Уралметалл»",
                email="fedorov@uralmetal.example",
                phone="+73432123456",
                region="Свердловская область",
                kind="gas",
                inn="6670123457",
            ),
            Application(
                representative_name="Никитина Елена Васильевна",
                organisation_name="ИП Никитина Е. В.",
                email="nikitina@mail.example",
                phone="+79221234567",
                region="Казань",
                kind="pharmacy",
                inn="165012345680",
            ),
        ]
        db.session.add_all(applications)
        db.session.flush()
        consent = current_version(ConsentPurpose.APPLICATION)
        for application in applications:  # each applicant ticked the consent on the form
            accept(consent, application=application)
    db.session.flush()
