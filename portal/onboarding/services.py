"""Partner applications: submit, ask for more information, approve, reject."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit, clock
from portal.accounts.models import StaffRole, User
from portal.accounts.services import make_password_token
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.mail import send_mail
from portal.notifications.services import notify
from portal.onboarding.models import (
    OPEN_STATUSES,
    Application,
    ApplicationEvent,
    ApplicationStatus,
)
from portal.organisations import contracts
from portal.organisations import services as organisations
from portal.organisations.models import Organisation
from portal.privacy import consents
from portal.privacy.models import ConsentPurpose


def _event(application, action, actor=None, message=None):
    application.events.append(
        ApplicationEvent(action=action, actor_id=getattr(actor, "id", None), message=message)
    )


def submit_application(
    data: dict, ip: str | None, language: str = "ru", consent_version=None
) -> Application:
    """Create an application with the applicant's consent to processing their data for its
    review; refuse a second open one for the same INN or an existing client, and a consent
    to a text that is no longer current."""
    try:
        consent = consents.require_current(ConsentPurpose.APPLICATION, consent_version)
    except UserError as error:
        raise UserError(str(error), field="consent") from error
    inn = data["inn"]
    if db.session.scalar(select(Organisation.id).where(Organisation.inn == inn)):
        raise UserError(
            _l(
                "An organisation with this INN is already our client. Ask its administrator "
                "to add you, or contact your account manager."
            )
        )
    if db.session.scalar(
        select(Application.id).where(Application.inn == inn, Application.status.in_(OPEN_STATUSES))
    ):
        raise UserError(
            _l("An application for this INN is already under review. We will contact you.")
        )
    application = Application(**data, submitted_ip=ip, language=language)
    _event(application, "submitted")
    db.session.add(application)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # a parallel double submit lost the race
        raise UserError(
            _l("An application for this INN is already under review. We will contact you.")
        ) from error
    audit.record("application.submitted", actor=None, target=application, inn=inn)
    consents.accept(consent, application=application)
    send_mail(
        application.email,
        _l("Your application is under review"),
        "application_received",
        language,
        application=application,
    )
    _notify_managers(application)
    return application


def _notify_managers(application):
    staff = db.session.scalars(
        select(User).where(
            User.staff_role.in_([StaffRole.MANAGER, StaffRole.ADMIN]), User.is_active_flag.is_(True)
        )
    ).all()
    title = _l("New application: %(name)s", name=application.organisation_name)
    for user in staff:
        notify(user, str(title), link=f"/backoffice/onboarding/applications/{application.id}")
    notify_email = current_app.config.get("MANAGER_NOTIFY_EMAIL")
    if notify_email:
        send_mail(notify_email, title, "application_new_staff", "ru", application=application)


def _require_open(application):
    if not application.is_open:
        raise UserError(_l("This application has already been decided."))


class ReplyLinkExpired(UserError):
    """The applicant's answer link is older than APPLICATION_REPLY_MAX_AGE; the application
    is in `details["application"]` (its page offers a new link)."""


def request_information(application, question: str, manager) -> None:
    _require_open(application)
    application.status = ApplicationStatus.INFO_REQUESTED
    _event(application, "info_requested", manager, question)
    audit.record("application.info_requested", actor=manager, target=application, question=question)
    _send_question(application, question)


def _send_question(application, question: str) -> None:
    send_mail(
        application.email,
        _l("We need more information about your application"),
        "application_info_requested",
        application.language,
        application=application,
        question=question,
        reply_token=reply_token(application),
        days=current_app.config["APPLICATION_REPLY_MAX_AGE"] // 86400,
    )


def _reply_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="application-reply")


def reply_token(application) -> str:
    return _reply_serializer().dumps(application.id)


def _waiting_application(application_id) -> Application:
    application = db.session.get(Application, application_id) if application_id else None
    if application is None or application.status != ApplicationStatus.INFO_REQUESTED:
        raise UserError(_l("This application is not waiting for an answer."))
    return application


def application_for_reply(token: str) -> Application:
    """The application a reply link answers; the link is signed and expires after
    APPLICATION_REPLY_MAX_AGE seconds (PORTAL_APPLICATION_REPLY_DAYS)."""
    max_age = current_app.config["APPLICATION_REPLY_MAX_AGE"]
    serializer = _reply_serializer()
    try:
        application_id = serializer.loads(token, max_age=max_age)
    except SignatureExpired as error:
        # The signature is good, only too old: say so, and offer a fresh link by e-mail.
        application = _waiting_application(serializer.load_payload(error.payload))
        raise ReplyLinkExpired(_l("This link has expired."), application=application) from error
    except BadSignature as error:
        raise UserError(_l("This link is not valid.")) from error
    return _waiting_application(application_id)


def resend_reply_link(application) -> None:
    """E-mail the last question again with a fresh link, to the application's own address."""
    question = next(
        (e.message for e in reversed(application.events) if e.action == "info_requested"), ""
    )
    _send_question(application, question)
    audit.record("application.reply_link_resent", actor=None, target=application)


def reply_to_question(application, answer: str) -> None:
    application.status = ApplicationStatus.NEW
    _event(application, "applicant_replied", None, answer)
    audit.record("application.applicant_replied", actor=None, target=application)
    _notify_managers(application)


def approve_application(
    application, requisites: dict, admin_login: str | None, manager, contract: dict | None = None
):
    """Create the organisation and its administrator; e-mail a link to set the password.

    A pharmacy or medical organisation gets its supply contract here: the number and date the
    manager entered, or the approval day and a generated «П-{year}-{seq}» for what was left
    blank. Another kind gets a contract only when the manager entered one.
    """
    _require_open(application)
    organisation = organisations.create_organisation(
        legal_name=requisites["legal_name"],
        inn=application.inn,
        kind=requisites["kind"],
        kpp=requisites.get("kpp"),
        ogrn=requisites.get("ogrn"),
        legal_address=requisites.get("legal_address"),
        delivery_address=requisites.get("delivery_address"),
        region=requisites.get("region"),
        phone=application.phone,
        email=application.email,
        created_by=manager,
        manager=manager,
    )
    _set_contract(organisation, contract or {}, manager)
    membership = organisations.add_member(
        organisation,
        full_name=application.representative_name,
        email=application.email,
        phone=application.phone,
        login=admin_login,
        powers=organisations.admin_powers(),
        added_by=manager,
        send_link=False,
    )
    user = membership.user
    user.language = application.language
    application.status = ApplicationStatus.APPROVED
    application.organisation_id = organisation.id
    application.reviewed_by_id = manager.id
    application.reviewed_at = utcnow()
    _event(application, "approved", manager)
    audit.record(
        "application.approved",
        actor=manager,
        target=application,
        organisation=organisation,
        login=user.login,
    )
    # An existing account (a chain's buyer) already has a password: no set-password link then.
    token = make_password_token(user) if user.password_hash is None else None
    send_mail(
        application.email,
        _l("Your application is approved"),
        "application_approved",
        application.language,
        application=application,
        user=user,
        token=token,
        hours=current_app.config["PASSWORD_TOKEN_MAX_AGE"] // 3600,
    )
    return organisation


def _set_contract(organisation, contract: dict, manager) -> None:
    number, day = (contract.get("number") or "").strip(), contract.get("contract_date")
    deferral = contract.get("deferral_days")
    if not (organisation.is_pharmacy or number or day or deferral is not None):
        return
    try:
        contracts.set_supply_contract(
            organisation,
            number=number,
            contract_date=day or clock.local_today(),
            deferral_days=deferral,
            actor=manager,
            generate=True,
        )
    except UserError as error:
        raise UserError(error.message) from error


def reject_application(application, reason: str, manager) -> None:
    _require_open(application)
    application.status = ApplicationStatus.REJECTED
    application.decision_reason = reason
    application.reviewed_by_id = manager.id
    application.reviewed_at = utcnow()
    _event(application, "rejected", manager, reason)
    audit.record("application.rejected", actor=manager, target=application, reason=reason)
    send_mail(
        application.email,
        _l("Your application has been declined"),
        "application_rejected",
        application.language,
        application=application,
        reason=reason,
    )


def application_queue(status=None, region=None, kind=None):
    query = select(Application).order_by(Application.created_at.desc(), Application.id.desc())
    if status:
        query = query.where(Application.status == status)
    if region:
        query = query.where(Application.region.ilike(f"%{region}%"))
    if kind:
        query = query.where(Application.kind == kind)
    return query
