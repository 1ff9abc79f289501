"""Pages of planned volumes: the customer's plan, requests and plan against actual under
/metering/, the manager's list of requests, decisions and contract plan settings under
/backoffice/metering/."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock, errors
from portal.extensions import db
from portal.form_fields import choices
from portal.formatting import plain_number
from portal.metering import bp, charts, plan_actual, plans, registry, staff_bp
from portal.metering.models import Contract, PlanRequest
from portal.metering.plan_forms import AnnualPlanForm, ChangePlanForm, DecisionForm, PlanTermsForm
from portal.metering.plans import PlanRejected
from portal.organisations.models import GAS_KINDS, Organisation, Power
from portal.security import access, can_manage_organisation, current_organisation, get_scoped_or_404

READINGS = Power.SUBMIT_READINGS


def _year(today) -> int:
    year = request.args.get("year", type=int)
    return year if year and today.year - 5 <= year <= today.year + 1 else today.year


def _annual_form(contract, today, formdata=True):
    form = AnnualPlanForm() if formdata else AnnualPlanForm(formdata=None)
    form.year.choices = choices([(today.year, today.year), (today.year + 1, today.year + 1)])
    names = charts.month_names()
    for month in plans.MONTHS:
        form[f"month_{month}"].label.text = names[month - 1]
    if not formdata:
        form.year.data = today.year + 1
        version = plans.current_version(contract.id, today.year + 1)
        for period, volume in (version.volumes() if version else {}).items():
            form[f"month_{period.month}"].data = plain_number(volume)
    return form


def _show_rejection(rejection: PlanRejected, form):
    errors.show(rejection, form)
    for field, message in rejection.details.get("errors", {}).items():
        target = getattr(form, field, None)
        if target is not None and message not in target.errors:
            target.errors = [*target.errors, message]


def _plan_context(contract, year, today):
    return {
        "contract": contract,
        "year": year,
        "version": plans.current_version(contract.id, year),
        "versions": plans.versions(contract.id, year),
        "requests": plans.requests_of(contract.id),
        "month_names": charts.month_names(),
        "deadline_day": plans.deadline_day(),
        "today": today,
    }


# --- the customer ---------------------------------------------------------------------------


@bp.route("/plans")
@access.power(READINGS, kinds=GAS_KINDS)
def plans_index():
    organisation = current_organisation()
    return render_template(
        "metering/plans_index.html",
        contracts=registry.organisation_contracts(organisation.id),
        pending=plans.pending_counts(organisation.id),
    )


def _render_customer_plan(contract, annual=None, change=None):
    today = clock.local_today()
    annual = annual or _annual_form(contract, today, formdata=False)
    change = change or ChangePlanForm(formdata=None)
    return errors.form_page(
        "metering/plans.html",
        form=annual if annual.errors else change,
        annual=annual,
        change=change,
        open_months=plans.open_months(contract, today),
        staff=False,
        **_plan_context(contract, _year(today), today),
    )


@bp.route("/contracts/<int:contract_id>/plan")
@access.power(READINGS, kinds=GAS_KINDS)
def plan(contract_id):
    return _render_customer_plan(get_scoped_or_404(Contract, contract_id))


@bp.route("/contracts/<int:contract_id>/plan/annual", methods=["POST"])
@access.power(READINGS, kinds=GAS_KINDS)
def submit_annual_plan(contract_id):
    contract = get_scoped_or_404(Contract, contract_id)
    form = _annual_form(contract, clock.local_today())
    if form.validate_on_submit():
        volumes = {m: form[f"month_{m}"].data for m in plans.MONTHS}
        try:
            plans.submit_annual(contract, form.year.data, volumes, current_user, form.comment.data)
        except PlanRejected as rejection:
            _show_rejection(rejection, form)
        else:
            flash(_("The annual request has been sent to the manager."), "success")
            return redirect(url_for("metering.plan", contract_id=contract.id, year=form.year.data))
    return _render_customer_plan(contract, annual=form)


@bp.route("/contracts/<int:contract_id>/plan/change", methods=["POST"])
@access.power(READINGS, kinds=GAS_KINDS)
def submit_plan_change(contract_id):
    contract = get_scoped_or_404(Contract, contract_id)
    form = ChangePlanForm()
    if form.validate_on_submit():
        try:
            request_ = plans.submit_change(
                contract, form.period.data, form.volume.data, current_user, form.comment.data
            )
        except PlanRejected as rejection:
            _show_rejection(rejection, form)
        else:
            flash(_("The change has been sent to the manager."), "success")
            return redirect(url_for("metering.plan", contract_id=contract.id, year=request_.year))
    return _render_customer_plan(contract, change=form)


def _actual_context(contract, today):
    year = _year(today)
    rows = plan_actual.plan_against_actual(contract, year, today)
    return {
        "contract": contract,
        "year": year,
        "rows": rows,
        "totals": plan_actual.totals(rows),
        "tolerance": plan_actual.tolerance(contract),
        "today": today,
    }


@bp.route("/contracts/<int:contract_id>/plan/actual", endpoint="plan_actual")
@access.power(READINGS, kinds=GAS_KINDS)
def plan_actual_page(contract_id):
    contract = get_scoped_or_404(Contract, contract_id)
    return render_template(
        "metering/plans_actual.html", staff=False, **_actual_context(contract, clock.local_today())
    )


# --- the manager ----------------------------------------------------------------------------


@staff_bp.route("/plans")
@access.staff()
def plan_requests():
    return render_template("metering/plans_requests.html", requests=plans.pending_requests())


def _render_staff_plan(contract, terms=None):
    today = clock.local_today()
    organisation = db.session.get(Organisation, contract.organisation_id)
    if terms is None:
        terms = PlanTermsForm(formdata=None)
        terms.tolerance.data = plain_number(plan_actual.tolerance(contract) * 100)
        for name in ("overuse_coefficient", "underuse_coefficient"):
            value = getattr(contract, name)
            terms[name].data = plain_number(value)
    return errors.form_page(
        "metering/plans.html",
        form=terms,
        terms=terms,
        organisation=organisation,
        can_manage=can_manage_organisation(current_user, organisation),
        staff=True,
        actual=_actual_context(contract, today),
        **_plan_context(contract, _year(today), today),
    )


@staff_bp.route("/contracts/<int:contract_id>/plan", endpoint="plan")
@access.staff()
def staff_plan(contract_id):
    return _render_staff_plan(db.get_or_404(Contract, contract_id))


@staff_bp.route("/contracts/<int:contract_id>/plan/terms", methods=["POST"])
@access.curator(Contract, "contract_id")
def plan_terms(contract_id):
    contract = db.get_or_404(Contract, contract_id)
    form = PlanTermsForm()
    if form.validate_on_submit():
        try:
            plans.set_plan_terms(
                contract,
                form.tolerance.data,
                form.overuse_coefficient.data,
                form.underuse_coefficient.data,
            )
        except PlanRejected as rejection:
            _show_rejection(rejection, form)
        else:
            flash(_("The plan settings have been saved."), "success")
            return redirect(url_for("metering_staff.plan", contract_id=contract.id))
    return _render_staff_plan(contract, terms=form)


def _volumes_from_request(plan_request):
    return {
        line.id: request.form[f"volume-{line.id}"]
        for line in plan_request.lines
        if f"volume-{line.id}" in request.form
    }


@staff_bp.route("/plan-requests/<int:request_id>", methods=["GET", "POST"])
@access.curator(PlanRequest, "request_id")
def decide_plan_request(request_id):
    plan_request = db.get_or_404(PlanRequest, request_id)
    organisation = db.session.get(Organisation, plan_request.organisation_id)
    form = DecisionForm()
    line_errors = {}
    if form.validate_on_submit():
        try:
            plans.decide(
                plan_request,
                form.decision.data,
                form.comment.data,
                _volumes_from_request(plan_request),
                current_user,
            )
        except PlanRejected as rejection:
            _show_rejection(rejection, form)
            line_errors = rejection.details.get("errors", {})
        except errors.UserError as error:
            errors.show(error, form)
        else:
            flash(_("The decision has been saved and sent to the customer."), "success")
            return redirect(url_for("metering_staff.plan_requests"))
    return errors.form_page(
        "metering/plans_decide.html",
        form=form,
        plan_request=plan_request,
        organisation=organisation,
        can_manage=can_manage_organisation(current_user, organisation),
        current=plans.agreed_plan(plan_request.contract_id, plan_request.year),
        line_errors=line_errors,
        defaults={line.id: plain_number(line.requested_volume) for line in plan_request.lines},
        values=request.form,
    )
