"""Backups and the restore drill: `flask backup` and `flask restore-drill`.

A backup is a folder with the database (pg_dump custom format, or a consistent SQLite copy),
the uploaded files of the file store (disk folder or bucket) as a tar.gz, and a manifest of
per-table row counts and content checksums.
The restore drill restores that backup into a scratch database, compares every table with the
manifest, starts the application on the restored copy and checks that it serves; then it
removes the scratch copy. It proves that the backup can actually be restored.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from portal.extensions import db


def table_checksums(engine) -> dict:
    """{table: [row count, sha256 of all rows in primary-key order]} for every table."""
    result = {}
    metadata = db.metadata
    with engine.connect() as connection:
        existing = set(inspect(connection).get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in existing:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(_canonical(v) for v in row)).encode())
                count += 1
            result[table.name] = [count, digest.hexdigest()]
    return result


def _canonical(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC).isoformat()
    return value


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise click.ClickException(f"{name} is not installed (Debian: postgresql-client)")
    return path


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(target: Path) -> dict:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "postgresql":
        subprocess.run(  # noqa: S603 - arguments come from configuration, not from users
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(target / "database.dump"),
                _libpq_url(url),
            ],
            check=True,
        )
    else:
        source = sqlite3.connect(url.database)
        with sqlite3.connect(target / "database.sqlite") as copy:
            source.backup(copy)  # consistent even while the portal is writing
        source.close()
    uploads = _archive_uploads(target / "uploads.tar.gz")
    manifest = {
        "created_at": datetime.now(UTC).isoformat(),
        "backend": url.get_backend_name(),
        "tables": table_checksums(db.engine),
        "uploads": uploads,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _archive_uploads(path: Path) -> list[str]:
    """The uploaded files of the file store (disk or bucket) into a tar.gz; their keys."""
    from portal.files import store

    files = store.files()
    keys = []
    with tarfile.open(path, "w:gz") as archive:
        for entry in files.entries():
            if entry.key.endswith(store.PARTIAL_SUFFIX):
                continue  # a write that never finished: nobody's file
            info = tarfile.TarInfo(f"uploads/{entry.key}")
            info.size, info.mtime = entry.size, int(entry.modified.timestamp())
            with files.open(entry.key) as handle:
                archive.addfile(info, handle)
            keys.append(entry.key)
    return sorted(keys)


def _scratch_database(source_url):
    """Create an empty scratch database next to the source; return (url, drop)."""
    if source_url.get_backend_name() != "postgresql":
        path = Path(tempfile.mkdtemp()) / "restored.db"
        return source_url.set(database=str(path)), lambda: shutil.rmtree(path.parent)
    name = f"portal_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(source_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return source_url.set(database=name), drop


def restore_drill(source: Path) -> list[str]:
    """Restore the backup into a scratch copy and return the differences found (none = good)."""
    manifest = json.loads((source / "manifest.json").read_text())
    url, drop = _scratch_database(make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]))
    problems = []
    uploads = Path(tempfile.mkdtemp())
    try:
        if manifest["backend"] == "postgresql":
            subprocess.run(  # noqa: S603 - arguments come from configuration, not from users
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--dbname",
                    _libpq_url(url),
                    str(source / "database.dump"),
                ],
                check=True,
            )
        else:
            shutil.copyfile(source / "database.sqlite", url.database)
        with tarfile.open(source / "uploads.tar.gz") as archive:
            archive.extractall(uploads, filter="data")
        engine = create_engine(url)
        restored = table_checksums(engine)
        engine.dispose()
        for table, expected in manifest["tables"].items():
            if restored.get(table) != expected:
                problems.append(
                    f"table {table}: expected {expected}, restored {restored.get(table)}"
                )
        files = sorted(
            str(p.relative_to(uploads / "uploads"))
            for p in (uploads / "uploads").rglob("*")
            if p.is_file()
        )
        if files != manifest["uploads"]:
            problems.append("uploaded files differ from the manifest")
        problems.extend(_serves(url.render_as_string(hide_password=False), uploads / "uploads"))
    finally:
        shutil.rmtree(uploads, ignore_errors=True)
        drop()
    return problems


def _serves(database_url, upload_dir) -> list[str]:
    from portal import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": os.urandom(16).hex(),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": str(upload_dir),
            "STORAGE_URL": None,  # the restored files are on this disk, whatever the source
        }
    )
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.session.remove()
        db.engine.dispose()
    if response.status_code != 200:
        return [f"the restored copy does not serve: /healthz answered {response.status_code}"]
    return []


@click.command("backup")
@click.option("--to", "target", required=True, type=click.Path(path_type=Path))
def backup_command(target):
    """Back up the database and the uploads into a folder."""
    manifest = backup(target)
    rows = sum(count for count, _ in manifest["tables"].values())
    click.echo(
        f"Backup written to {target}: {len(manifest['tables'])} tables, {rows} rows, "
        f"{len(manifest['uploads'])} uploaded files."
    )


@click.command("restore-drill")
@click.option(
    "--from", "source", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
def restore_drill_command(source):
    """Restore a backup into a scratch database, compare it, check that it serves."""
    problems = restore_drill(source)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException("restore drill FAILED")
    click.echo("Restore drill passed: every table and file matches, the restored copy serves.")
