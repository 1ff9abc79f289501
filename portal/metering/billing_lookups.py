"""How billing reads a gas contract it knows by id (portal.billing.lookups), and the staff
page a refused money form is shown on: registered on import."""

from portal.billing.lookups import (
    ContractLookup,
    GasStaffPage,
    register_contracts,
    register_gas_staff_page,
)


def _get(contract_id):
    from portal.extensions import db
    from portal.metering.models import Contract

    return db.session.get(Contract, contract_id)


def _numbers():
    from sqlalchemy import select

    from portal.extensions import db
    from portal.metering.models import Contract

    return db.session.execute(select(Contract.id, Contract.organisation_id, Contract.number)).all()


def _all_with_tariffs():
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from portal.extensions import db
    from portal.metering.models import Contract

    return db.session.scalars(
        select(Contract).options(selectinload(Contract.tariffs)).order_by(Contract.id)
    ).all()


def _lock(contract_id):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.metering.models import Contract

    db.session.scalar(select(Contract.id).where(Contract.id == contract_id).with_for_update())


def _readings(contract_id, period):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.metering.models import MeteringPoint, Reading

    return db.session.scalars(
        select(Reading)
        .join(MeteringPoint, MeteringPoint.id == Reading.metering_point_id)
        .where(MeteringPoint.contract_id == contract_id, Reading.period == period)
        .order_by(Reading.reading_date, Reading.id)
    ).all()


def _organisation_or_404(organisation_id):
    from portal.metering.staff_views import gas_organisation_or_404

    return gas_organisation_or_404(organisation_id)


def _contract_choices(organisation):
    from portal.metering.staff_views import contract_choices

    return contract_choices(organisation)


def _render(organisation, **forms):
    from portal.metering.staff_views import render_organisation

    return render_organisation(organisation, **forms)


register_contracts(
    ContractLookup(
        get=_get,
        numbers=_numbers,
        all_with_tariffs=_all_with_tariffs,
        lock=_lock,
        readings=_readings,
    )
)
register_gas_staff_page(
    GasStaffPage(
        organisation_or_404=_organisation_or_404,
        contract_choices=_contract_choices,
        render=_render,
    )
)
