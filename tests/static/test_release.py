"""A release a team can pin: one version, and the places that name it or show the repository held to it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from ledger_aggregator import __version__

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def fenced(language: str) -> list[str]:
    """README's code blocks of one language."""
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_the_version_has_one_owner_that_the_others_follow() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "ledger_aggregator.__version__"' in pyproject
    assert f"\n  version: {__version__}\n" in (ROOT / "docs/openapi.yaml").read_text()
    releases = re.findall(r"^## (\d+\.\d+\.\d+) \(", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases and releases[0] == __version__, "the newest release in CHANGELOG is the package's version"


def module_block() -> dict[str, Any]:
    """The arguments of README's module block."""
    (block,) = [b for b in fenced("hcl") if 'module "ledger"' in b]
    arguments: dict[str, Any] = hcl2.loads(block)["module"][0]['"ledger"']
    return arguments


def git(*arguments: str) -> subprocess.CompletedProcess[str]:
    """A git command in this checkout; its exit status is the caller's to read."""
    return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)


def version_at(commit: str) -> str:
    """The package's version at a commit."""
    source = git("show", f"{commit}:lambda_src/ledger_aggregator/__init__.py").stdout
    found = re.search(r'^__version__ = "([^"]+)"$', source, re.M)
    return found[1] if found else ""


def test_the_readmes_pin_is_the_commit_that_cut_the_release() -> None:
    """No tag travels with the repository as delivered: README pins the release commit, which must resolve here,
    hold the release's version, and be the first to (its parent holds the one before)."""
    source = module_block()["source"].strip('"')
    ref = re.fullmatch(r"git::\S+\?ref=([0-9a-f]{40})", source)
    assert ref, f"README pins {source}: a full commit hash, which needs no tag"
    if git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("this checkout has no git history: the pinned commit cannot be resolved here")
    if git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("this clone is shallow: the release commit may be outside its history")
    commit = ref[1]
    assert git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").returncode == 0, f"{commit} does not resolve"
    assert version_at(commit) == __version__, "the pinned commit holds the package's version"
    assert version_at(f"{commit}~1") != __version__, "the pinned commit is the one that cut the release"
    releases = re.findall(r"^## (\d+\.\d+\.\d+) \(", git("show", f"{commit}:CHANGELOG.md").stdout, re.M)
    assert releases[:1] == [__version__], "the pinned commit's CHANGELOG has the release as its newest"


def test_the_readmes_module_block_sets_only_root_variables() -> None:
    arguments = module_block()
    variables = {name.strip('"') for v in hcl2.load((ROOT / "variables.tf").open())["variable"] for name in v}
    set_here = {name for name in arguments if not name.startswith("__") and name != "source"}
    assert set_here <= variables, set_here - variables


def test_the_readmes_tree_is_the_repository() -> None:
    (tree,) = fenced("text")
    listed = {line.split("  ")[0].strip() for line in tree.splitlines()}
    named = {word.rstrip("/").split("/")[0] for entry in listed for word in entry.split()}
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {path.split("/")[0] for path in tracked.splitlines() if not path.startswith(".")}
    documents = {
        "README.md",
        "LICENSE",
        "pyproject.toml",
        "requirements-dev.txt",
        "requirements-dev.lock",
        "requirements-checkov.lock",
    }
    assert named == top - documents, "README's tree misses or invents a top-level entry"
    tests = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert {e.split("/")[1] for e in listed if e.startswith("tests/")} == tests
    (line,) = [line for line in tree.splitlines() if line.startswith("modules/")]
    modules = {p.name for p in (ROOT / "modules").iterdir() if p.is_dir()}
    assert {m.strip() for m in line.split("  ", 1)[1].strip().split(",")} == modules


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file (extras dropped, names normalised)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def test_the_hashed_locks_hold_every_direct_pin() -> None:
    """make venv installs requirements-dev.lock and make checkov requirements-checkov.lock, by hash: a pin
    changed in requirements-dev.txt (or the Lambda's requirements) without regenerating the lock fails."""
    locked = pins(ROOT / "requirements-dev.lock")
    direct = pins(ROOT / "requirements-dev.txt") | pins(ROOT / "lambda_src/requirements.txt")
    assert {name: locked.get(name) for name in direct} == direct
    assert "checkov" in pins(ROOT / "requirements-checkov.lock")
