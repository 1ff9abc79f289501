"""The lock file (requirements/lock.txt) pins every dependency pyproject.toml names, within its
bounds, and the environment the tests run in was installed from it (`make test` does so)."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(text) for text in names]


def test_every_runtime_and_dev_dependency_is_pinned_within_its_bounds():
    pins = locked()
    missing = [str(r) for r in declared() if _name(r.name) not in pins]
    assert missing == [], "run `make lock` after changing pyproject.toml"
    outside = {
        str(r): pins[_name(r.name)]
        for r in declared()
        if not r.specifier.contains(pins[_name(r.name)], prereleases=True)
    }
    assert outside == {}
    assert {"pip", "setuptools"} <= pins.keys()  # the venv's own tools too


def test_the_environment_was_installed_from_the_lock():
    pins = locked()
    differ = {}
    for requirement in declared():
        name = _name(requirement.name)
        installed = metadata.version(requirement.name)
        if installed != pins[name]:
            differ[name] = (installed, pins[name])
    assert differ == {}, "reinstall with `make install-dev` (pip install -c requirements/lock.txt)"
