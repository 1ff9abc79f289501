"""Sign-in answer time for an unknown login, a known login and a known e-mail (wrong password).

    .venv/bin/python bench/login_timing.py [--repeat 15]

Runs on a throwaway SQLite database through Flask's test client (real CSRF, real Argon2).
Since every sign-in is verified against an Argon2 hash (a dummy one when there is no such
account), the three medians should agree within noise; before, an unknown login skipped the
hash and answered ~10x faster. Each try uses a fresh identifier or the lock would trip.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.extensions import db  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "MAIL_OUTBOX": str(folder / "outbox"),
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        for n in range(args.repeat):
            user = User(login=f"known{n}", email=f"known{n}@example.org", full_name="Bench")
            user.set_password("Correct-horse-42")
            db.session.add(user)
        db.session.commit()
    client = app.test_client()
    kinds = {
        "unknown login": lambda n: f"nobody{n}",
        "known login": lambda n: f"known{n}",
        "known e-mail": lambda n: f"KNOWN{n}@example.org",
    }
    client.post("/login", data={"login": "warm-up", "password": "x"})
    for name, identifier in kinds.items():
        times = []
        for n in range(args.repeat):
            started = time.perf_counter()
            client.post("/login", data={"login": identifier(n), "password": "wrong-pass-1"})
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:14} median {statistics.median(times):6.1f} ms"
            f"  min {min(times):6.1f}  max {max(times):6.1f}  (n={len(times)})"
        )


if __name__ == "__main__":
    main()
