"""Which rows point at which files of the file store (for the orphan check and the migration).

Every column that names a stored file is listed here once, with the key it stands for:
a feature that starts keeping a new kind of file adds its column to `REFERENCES`.
"""

from dataclasses import dataclass
from importlib import import_module

from sqlalchemy import select

from portal.extensions import db


@dataclass(frozen=True)
class Reference:
    area: str  # "uploads" or "reports" (portal/files/store.py)
    model: str  # "module:Class"
    column: str
    folder: str = ""  # the key is folder/value
    sha256_column: str | None = None  # where the row keeps the file's SHA-256, if it does


# Besides these, every model with the shared stored-file columns (StoredFileColumns: customer
# uploads, supplier documents, ticket attachments) is found by itself.
REFERENCES = [
    Reference(
        "uploads", "portal.catalog.models:ItemCertificate", "stored_name", "catalog", "sha256"
    ),
    Reference("uploads", "portal.metering.models:Reading", "photo_name", "metering"),
    Reference("reports", "portal.billing.models:StatementJob", "pdf_name", "statements"),
    Reference("reports", "portal.billing.models:StatementJob", "xlsx_name", "statements"),
    # An upload waiting for its import job (removed when the job has finished).
    Reference("uploads", "portal.jobs.models:BackgroundJob", "file_key", "jobs"),
]


def _stored_file_models() -> list[str]:
    """Every model with the shared stored-file columns (supplier documents too)."""
    from portal.documents.models import StoredFileColumns

    found = []
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, StoredFileColumns):
            found.append(f"{cls.__module__}:{cls.__name__}")
    return found


def references() -> list[Reference]:
    listed = {(r.model, r.column) for r in REFERENCES}
    extra = [
        Reference("uploads", model, "stored_name", "", "sha256")
        for model in _stored_file_models()
        if (model, "stored_name") not in listed
    ]
    return REFERENCES + extra


def _model(path: str):
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class Row:
    label: str  # "CustomerUpload 12"
    sha256: str | None


def referenced() -> dict[str, dict[str, Row]]:
    """{area: {key: the row that points at it}} over every reference."""
    found = {"uploads": {}, "reports": {}}
    for reference in references():
        model = _model(reference.model)
        column = getattr(model, reference.column)
        columns = [model.id, column]
        if reference.sha256_column:
            columns.append(getattr(model, reference.sha256_column))
        for row in db.session.execute(select(*columns).where(column.isnot(None))):
            value = row[1]
            key = f"{reference.folder}/{value}" if reference.folder else value
            digest = row[2] if reference.sha256_column else None
            found[reference.area][key] = Row(f"{model.__name__} {row[0]}", digest)
    return found
