"""Backups restore: the drill restores into a scratch database and compares every table."""

from portal.extensions import db
from portal.organisations.models import Organisation


def test_backup_and_restore_drill(app, tmp_path, buyer):
    upload = tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = str(upload)
    upload.mkdir()
    (upload / "scan.pdf").write_bytes(b"%PDF-1.4 test")
    runner = app.test_cli_runner()
    backup = runner.invoke(args=["backup", "--to", str(tmp_path / "backup")])
    assert backup.exit_code == 0, backup.output
    drill = runner.invoke(args=["restore-drill", "--from", str(tmp_path / "backup")])
    assert drill.exit_code == 0, drill.output
    assert "Restore drill passed" in drill.output


def test_restore_drill_notices_a_tampered_backup(app, tmp_path, buyer):
    import json

    app.config["UPLOAD_DIR"] = str(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["backup", "--to", str(tmp_path / "backup")])
    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["organisations"][0] += 1  # pretend a row was lost
    manifest_path.write_text(json.dumps(manifest))
    drill = runner.invoke(args=["restore-drill", "--from", str(tmp_path / "backup")])
    assert drill.exit_code != 0
    assert "table organisations" in drill.output
    assert db.session.query(Organisation).count() == 1


def test_wsgi_entry_point_freezes_the_loaded_objects(tmp_path):
    """gunicorn's `wsgi:app`: what is loaded at start is left out of full garbage collections."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_SECRET_KEY": "a-test-secret-key-of-enough-length-1234",
    }
    output = subprocess.run(
        [sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(output.strip().splitlines()[-1]) > 50_000
