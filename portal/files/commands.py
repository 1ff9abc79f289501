"""`flask storage-migrate` and `flask storage-orphans`: the file store's upkeep (docs/STORAGE.md).

- storage-migrate copies every file of the local disk (UPLOAD_DIR, REPORT_DIR) into the
  configured bucket and verifies each copy by its SHA-256 (and against the SHA-256 its row
  keeps, where it keeps one). Idempotent: a file already there with the same content is
  counted, not copied again. Exit status 1 when a copy differs or cannot be verified.
- storage-orphans lists the files no row points at (older than the grace period, so that an
  upload between its file and its row is never taken), and the rows whose file is missing;
  with --delete it removes those files. Exit status 1 when rows miss their file.
"""

import hashlib
import logging
from datetime import UTC, datetime, timedelta

import click
from flask import current_app

from portal import transactions
from portal.files import references, store

log = logging.getLogger(__name__)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def migrate(echo=click.echo, dry_run: bool = False) -> dict:
    """Copy the disk's files into the configured store; return the counts."""
    targets = {"uploads": store.files(), "reports": store.reports()}
    if any(target.kind == "local" for target in targets.values()):
        raise click.ClickException(
            "PORTAL_STORAGE_URL is not an s3:// URL: the files are already on this disk."
        )
    recorded = references.referenced()
    counts = {"copied": 0, "present": 0, "failed": 0, "bytes": 0}
    for area, source in store.disk_stores(current_app.config).items():
        target = targets[area]
        for entry in source.entries():
            if entry.key.endswith(store.PARTIAL_SUFFIX):
                continue
            data = source.read(entry.key)
            digest = _digest(data)
            row = recorded[area].get(entry.key)
            if row is not None and row.sha256 and row.sha256 != digest:
                echo(f"FAILED {area}/{entry.key}: the disk file differs from {row.label}'s hash")
                counts["failed"] += 1
                continue
            if target.exists(entry.key):
                if _digest(target.read(entry.key)) == digest:
                    counts["present"] += 1
                else:
                    echo(f"FAILED {area}/{entry.key}: the bucket holds different content")
                    counts["failed"] += 1
                continue
            if dry_run:
                counts["copied"] += 1
                continue
            target.put(entry.key, data)
            if _digest(target.read(entry.key)) != digest:
                echo(f"FAILED {area}/{entry.key}: the copy does not verify")
                counts["failed"] += 1
                continue
            counts["copied"] += 1
            counts["bytes"] += len(data)
    return counts


def orphans(grace_hours: float, delete: bool = False, now: datetime | None = None) -> dict:
    """Files without a row (older than the grace period), rows without a file."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(hours=grace_hours)
    recorded = references.referenced()
    result = {"orphans": [], "young": 0, "missing": [], "deleted": 0, "files": 0}
    for area, files in (("uploads", store.files()), ("reports", store.reports())):
        present = set()
        for entry in files.entries():
            present.add(entry.key)
            result["files"] += 1
            if entry.key in recorded[area]:
                continue
            if entry.modified > cutoff:
                result["young"] += 1  # maybe an upload whose row is being written now
                continue
            result["orphans"].append((area, entry.key, entry.size))
            if delete:
                files.delete(entry.key)
                result["deleted"] += 1
        for key, row in sorted(recorded[area].items()):
            if key not in present:
                log.error("file store: %s points at %s/%s, which is missing", row.label, area, key)
                result["missing"].append((area, key, row.label))
    return result


@click.command("storage-migrate")
@click.option("--dry-run", is_flag=True, help="Count what would be copied; copy nothing.")
def storage_migrate_command(dry_run):
    """Copy the files on this disk into the bucket of PORTAL_STORAGE_URL and verify them."""
    with transactions.unit_of_work():
        counts = migrate(dry_run=dry_run)
    verb = "would copy" if dry_run else "copied"
    click.echo(
        f"{verb} {counts['copied']} files ({counts['bytes']} bytes), "
        f"{counts['present']} already in the bucket and identical, {counts['failed']} failed."
    )
    if counts["failed"]:
        raise SystemExit(1)


@click.command("storage-orphans")
@click.option("--delete", is_flag=True, help="Remove the orphan files (rows are never touched).")
@click.option(
    "--grace-hours",
    type=float,
    default=None,
    help="Leave files younger than this (default PORTAL_STORAGE_ORPHAN_GRACE_HOURS, 24).",
)
def storage_orphans_command(delete, grace_hours):
    """List files no row points at and rows whose file is missing; --delete removes orphans."""
    if grace_hours is None:
        grace_hours = float(current_app.config.get("STORAGE_ORPHAN_GRACE_HOURS") or 24)
    with transactions.unit_of_work():
        result = orphans(grace_hours, delete=delete)
    for area, key, size in result["orphans"]:
        click.echo(f"orphan {area}/{key} ({size} bytes){' deleted' if delete else ''}")
    for area, key, label in result["missing"]:
        click.echo(f"missing {area}/{key} (referenced by {label})")
    click.echo(
        f"{result['files']} files, {len(result['orphans'])} orphans older than "
        f"{grace_hours:g} h ({result['deleted']} deleted), {result['young']} younger left, "
        f"{len(result['missing'])} rows whose file is missing."
    )
    if result["missing"]:
        raise SystemExit(1)


def register(app) -> None:
    app.cli.add_command(storage_migrate_command)
    app.cli.add_command(storage_orphans_command)
