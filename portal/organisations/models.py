import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Money, Timestamped, UTCDateTime
from portal.extensions import db


class OrganisationKind(enum.StrEnum):
    PHARMACY = "pharmacy"
    MEDICAL = "medical"
    GAS = "gas"
    OTHER = "other"

    @property
    def label(self):
        return {
            OrganisationKind.PHARMACY: _l("Pharmacy"),
            OrganisationKind.MEDICAL: _l("Medical institution"),
            OrganisationKind.GAS: _l("Industrial gas consumer"),
            OrganisationKind.OTHER: _lp("activity kind", "Other"),
        }[self]


# The kinds that buy from the catalogue; gas customers have no catalogue, cart or orders.
PHARMACY_KINDS = (OrganisationKind.PHARMACY, OrganisationKind.MEDICAL)
GAS_KINDS = (OrganisationKind.GAS,)


class Power(enum.StrEnum):
    """What a member of an organisation may do ("полномочия")."""

    ORDER = "order"
    VIEW_PRICES = "view_prices"
    VIEW_FINANCE = "view_finance"
    SUBMIT_READINGS = "submit_readings"
    UPLOAD_DOCUMENTS = "upload_documents"
    CREATE_REQUESTS = "create_requests"
    MANAGE_USERS = "manage_users"

    @property
    def label(self):
        return {
            Power.ORDER: _l("Place orders"),
            Power.VIEW_PRICES: _l("See prices and the catalogue"),
            Power.VIEW_FINANCE: _l("See finances and statements"),
            Power.SUBMIT_READINGS: _l("Submit meter readings"),
            Power.UPLOAD_DOCUMENTS: _l("Upload documents"),
            Power.CREATE_REQUESTS: _l("Create requests"),
            Power.MANAGE_USERS: _l("Manage users"),
        }[self]


ALL_POWERS = frozenset(Power)


class Organisation(Timestamped, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    inn: Mapped[str] = mapped_column(String(12), unique=True)
    kpp: Mapped[str | None] = mapped_column(String(9))
    ogrn: Mapped[str | None] = mapped_column(String(15))
    kind: Mapped[str] = mapped_column(String(16), default=OrganisationKind.PHARMACY)

    @property
    def kind_label(self):
        return OrganisationKind(self.kind).label

    legal_address: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    bank_details: Mapped[str | None] = mapped_column(Text)
    credit_limit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The account manager ("curator") responsible for this customer.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The supply contract the invoices for payment name as their «Основание» (pharmacies and
    # medical organisations; set on approval, edited by the curator on the back-office page).
    supply_contract_number: Mapped[str | None] = mapped_column(String(40))
    supply_contract_date: Mapped[date | None] = mapped_column(Date)
    # Calendar days of deferral for deferred-payment orders under that contract (None: the
    # portal's default, PORTAL_DEFERRED_PAYMENT_DAYS).
    payment_deferral_days: Mapped[int | None] = mapped_column(Integer)
    # The organisation's identifier as a participant of electronic document exchange (ЭДО),
    # given by its operator («2BM-…»): the ИдПол in the file name of the ФНС XML of its
    # documents. None: the XML names the buyer by ИНН-КПП instead (docs/documents.md).
    edo_id: Mapped[str | None] = mapped_column(String(46))

    manager = relationship("User", foreign_keys=[manager_id])
    addresses = relationship(
        "DeliveryAddress",
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="DeliveryAddress.id",
    )
    memberships = relationship("Membership", back_populates="organisation")

    def __repr__(self):
        return f"<Organisation {self.inn}>"

    @property
    def is_pharmacy(self) -> bool:
        return self.kind in PHARMACY_KINDS

    @property
    def is_gas(self) -> bool:
        return self.kind == OrganisationKind.GAS


class DeliveryAddress(db.Model):
    __tablename__ = "delivery_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    organisation = relationship("Organisation", back_populates="addresses")


class Membership(Timestamped, db.Model):
    """A user's place in an organisation, with the powers granted there."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    powers_text: Mapped[str] = mapped_column("powers", String(255), default="")
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False)

    user = relationship("User", back_populates="memberships")
    organisation = relationship("Organisation", back_populates="memberships", lazy="joined")

    @property
    def powers(self) -> frozenset[Power]:
        return frozenset(Power(p) for p in self.powers_text.split(",") if p)

    @powers.setter
    def powers(self, values) -> None:
        self.powers_text = ",".join(sorted(Power(v).value for v in values))

    def has(self, power: Power) -> bool:
        return not self.is_blocked and power in self.powers


class Invitation(Timestamped, db.Model):
    """An organisation administrator's invitation to an e-mail address. The membership exists
    only once the invited person accepts it, signed in (or, for an account the invitation
    created, by setting the password through the invitation's link)."""

    __tablename__ = "membership_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The link is /invitations/<token>; only the invited account may open it.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    # The account that may accept (None when the address belongs to nobody who may join).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # True when the account was created for this invitation: setting its password accepts.
    created_account: Mapped[bool] = mapped_column(Boolean, default=False)
    powers_text: Mapped[str] = mapped_column("powers", String(255), default="")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship("Organisation", lazy="joined")
    user = relationship("User", foreign_keys=[user_id])
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    @property
    def powers(self) -> frozenset[Power]:
        return frozenset(Power(p) for p in self.powers_text.split(",") if p)

    @powers.setter
    def powers(self, values) -> None:
        self.powers_text = ",".join(sorted(Power(v).value for v in values))

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None
