"""The lock files agree with pyproject.toml: every dependency (and extra) is pinned, to a version
its range allows, with hashes; the runtime lock and the development lock pin the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    found = dict(re.findall(r"^([A-Za-z0-9_.\-\[\],]+)==([^\s\\;]+)", text, flags=re.M))
    assert found, f"{name} pins nothing"
    assert text.count("--hash=sha256:") >= len(found), f"{name}: every pin needs its hashes"
    return {canonicalize_name(k.split("[")[0]): v for k, v in found.items()}


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.mark.parametrize(("lock", "groups"), [("requirements.lock", ()), ("requirements-dev.lock", ("test", "dev"))])
def test_every_dependency_is_pinned_within_its_range(lock: str, groups: tuple[str, ...]) -> None:
    pinned = pins(lock)
    wanted = [Requirement(r) for r in project()["dependencies"]]
    for group in groups:
        wanted += [Requirement(r) for r in project()["optional-dependencies"][group]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in {lock}: run make lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement.specifier}: run make lock"
        )


def test_every_range_has_an_upper_bound() -> None:
    everything = list(project()["dependencies"])
    for group in project()["optional-dependencies"].values():
        everything += group
    for spec in everything:
        requirement = Requirement(spec)
        assert any(s.operator in ("<", "<=", "==", "~=") for s in requirement.specifier), f"{spec}: cap the next major"


def test_runtime_and_development_locks_agree() -> None:
    runtime, development = pins("requirements.lock"), pins("requirements-dev.lock")
    differ = {
        name: (version, development.get(name)) for name, version in runtime.items() if development.get(name) != version
    }
    assert differ == {}


@pytest.mark.parametrize(
    ("path", "lock"),
    [
        ("README.md", "requirements.lock"),
        ("deploy/Dockerfile", "requirements.lock"),
        (".ci/run", "requirements-dev.lock"),
        (".ci/run", "requirements.lock"),
    ],
)
def test_installs_use_the_lock(path: str, lock: str) -> None:
    assert f"--require-hashes -r {lock}" in (ROOT / path).read_text(encoding="utf-8")
