"""environment.yml (conda), pyproject.toml and requirements.txt (pip, locked with hashes) describe the
same environment."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from tests.support.paths import PROJECT_ROOT

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([^\s;#]+))?\s*(?:[;#].*)?$")


def normalize(name: str) -> str:
    """PEP 503: lowercase, runs of '-', '_' and '.' are one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirements(text: str) -> dict[str, str | None]:
    """{normalized name: pinned version or None} of a requirements file (comments and blanks skipped)."""
    found: dict[str, str | None] = {}
    for line in text.splitlines():
        line = line.rstrip(" \\")
        if not line.strip() or line.lstrip().startswith(("#", "--")):  # comments, options, hash lines
            continue
        match = REQUIREMENT.match(line)
        assert match, f"unreadable requirement line: {line!r}"
        name = normalize(match.group(1))
        assert name not in found, f"{name} is listed twice"
        found[name] = match.group(2)
    return found


@pytest.fixture(scope="module")
def conda_pip() -> dict[str, str | None]:
    environment = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict) and "pip" in entry]
    assert len(pip_sections) == 1, "environment.yml should have exactly one pip section"
    return parse_requirements("\n".join(pip_sections[0]))


@pytest.fixture(scope="module")
def direct() -> dict[str, str | None]:
    """pyproject.toml's dependencies and its dev extra: names only (ranges are left out)."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = project["dependencies"] + project["optional-dependencies"]["dev"]
    return parse_requirements("\n".join(re.split(r"[<>=!~ ]", name)[0] for name in names))


@pytest.fixture(scope="module")
def pinned() -> dict[str, str | None]:
    return parse_requirements((PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8"))


def test_normalize_follows_pep_503():
    assert normalize("CurrencyConverter") == "currencyconverter"
    assert normalize("pytest_httpserver") == normalize("pytest-httpserver") == normalize("Pytest.HTTPServer")
    assert normalize("a__b--c..d") == "a-b-c-d"


def test_parse_requirements_reads_names_and_pins():
    parsed = parse_requirements("# comment\n\nFoo_Bar==1.2.3\nbaz\nqux==2.0 ; python_version>'3'\n")
    assert parsed == {"foo-bar": "1.2.3", "baz": None, "qux": "2.0"}


def test_environment_yml_and_pyproject_name_the_same_packages(conda_pip, direct):
    assert len(direct) >= 10
    assert sorted(conda_pip) == sorted(direct)


def test_every_direct_dependency_is_pinned_in_requirements_txt(direct, pinned):
    unpinned = [name for name in direct if pinned.get(name) is None]
    assert unpinned == []
    assert all(version is not None for version in pinned.values()), "requirements.txt pins every line"


def test_environment_yml_versions_equal_requirements_txt(conda_pip, pinned):
    assert all(version is not None for version in conda_pip.values()), "environment.yml pins every package"
    differing = {
        name: (version, pinned.get(name)) for name, version in conda_pip.items() if version != pinned.get(name)
    }
    assert differing == {}


def test_every_locked_package_has_a_hash():
    text = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8")
    # A package's entry starts at a line beginning with its name and runs to the next such line.
    entries = re.split(r"\n(?=[A-Za-z0-9])", "\n" + text)[1:]
    unhashed = [entry.split(" ", 1)[0] for entry in entries if "--hash=sha256:" not in entry]
    assert len(entries) > 50 and unhashed == []


def test_environment_yml_python_matches_the_project():
    environment = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    pythons = [entry for entry in environment["dependencies"] if isinstance(entry, str) and entry.startswith("python")]
    assert pythons == ["python=3.11"]
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.11"' in pyproject
