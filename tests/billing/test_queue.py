from types import SimpleNamespace

from huey import RedisHuey, SqliteHuey

from portal.jobs.queue import make_huey


def fake_app(tmp_path, **config):
    return SimpleNamespace(config=config, instance_path=str(tmp_path))


def test_sqlite_queue_by_default_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_STATEMENTS_QUEUE_PATH", raising=False)
    huey = make_huey(fake_app(tmp_path, REDIS_URL=None))
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == str(tmp_path / "huey.db")


def test_redis_queue_when_redis_is_configured(tmp_path):
    huey = make_huey(fake_app(tmp_path, REDIS_URL="redis://127.0.0.1:6399/3"))
    assert isinstance(huey, RedisHuey)


def test_worker_command_is_registered(app):
    result = app.test_cli_runner().invoke(args=["worker", "--help"])
    assert result.exit_code == 0 and "--workers" in result.output
