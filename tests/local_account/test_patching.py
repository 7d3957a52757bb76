"""The local account's patches (local_account.patching, local_account.patches.PATCHES): named, by purpose, in a
written order, loud when a target is missing, and undoable."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from local_account.patching import (
    PURPOSES,
    WITHOUT,
    Patch,
    Patcher,
    PatchTargetMissingError,
    VersionMismatchError,
    check_versions,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_patch_is_named_once_and_has_a_purpose() -> None:
    from local_account.patches import PATCHES

    names = [p.name for p in PATCHES]
    assert len(names) == len(set(names)) == 44
    assert {p.purpose for p in PATCHES} == set(PURPOSES)
    assert [p.purpose for p in PATCHES[-10:]] == ["speed"] * 10, "the speed-ups come last"


def test_a_missing_target_is_refused_naming_the_patch_and_nothing_is_left_half_done() -> None:
    target = SimpleNamespace(kept=1)

    def renamed_upstream(patcher: Patcher) -> None:
        patcher.replace(target, "kept", 2)
        patcher.replace(target, "gone", 3)

    patcher = Patcher()
    with pytest.raises(PatchTargetMissingError, match=r"renamed upstream: .* has no attribute 'gone'"):
        patcher.apply([Patch("renamed upstream", "fidelity", renamed_upstream, "none")])
    patcher.undo()
    assert vars(target) == {"kept": 1}


def test_an_added_feature_refuses_to_hide_one_the_library_gained() -> None:
    target = SimpleNamespace(update_model=lambda: "moto's own")
    with pytest.raises(PatchTargetMissingError, match="already has 'update_model'"):
        Patcher().apply([Patch("updates", "feature", lambda p: p.add(target, "update_model", None), "none")])


def test_undo_puts_back_what_a_class_had_and_removes_what_it_did_not() -> None:
    class Base:
        def inherited(self) -> str:
            return "base"

    class Child(Base):
        def own(self) -> str:
            return "own"

    def both(patcher: Patcher) -> None:
        patcher.replace(Child, "own", 1)
        patcher.replace(Child, "inherited", 2)

    patcher = Patcher()
    patcher.apply([Patch("both", "speed", both, "none")])
    assert (vars(Child)["own"], vars(Child)["inherited"]) == (1, 2)
    patcher.undo()
    assert Child().own() == "own" and Child().inherited() == "base" and "inherited" not in vars(Child)


def test_another_version_of_moto_is_refused_before_anything_is_patched() -> None:
    with pytest.raises(VersionMismatchError, match=r"moto .* is installed; .* written against 0\.0\.1"):
        check_versions({"moto": "0.0.1"})
    check_versions()  # the pinned version is the installed one


def test_every_patch_applies_to_this_moto_and_undoing_them_restores_moto() -> None:
    """In a fresh process: apply all, undo all, and moto's patched attributes are moto's own again."""
    script = """
import sys
sys.path.insert(0, sys.argv[1])
import moto.dynamodb.models as d, moto.sqs.models as q
before = (d.DynamoDBBackend.update_item, q.SQSBackend.send_message, q.json)
from local_account import patches
patcher = patches.patch_moto()
assert d.DynamoDBBackend.update_item is not before[0] and q.json is not before[2]
assert len(patcher.applied) == len(patches.PATCHES)
patcher.undo()
assert (d.DynamoDBBackend.update_item, q.SQSBackend.send_message, q.json) == before
print("restored")
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "restored", done.stderr


def _defined_tests(path: Path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}


def test_every_patch_names_a_test_that_exists() -> None:
    """Each patch's held_by is a test function of this repository (make check-patches runs it without the patch)."""
    from local_account.patches import PATCHES

    for patch in PATCHES:
        path, _, test = patch.held_by.partition("::")
        function = test.split("[", 1)[0]
        assert (ROOT / path).is_file(), f"{patch.name}: {path} does not exist"
        assert function in _defined_tests(ROOT / path), f"{patch.name}: {patch.held_by} is not a test"


def mirrored_test_file(module: str) -> str:
    """The test file laid out like a module: ``local_account/<...>/<x>.py`` is tested in
    ``tests/local_account/<...>/test_<x>.py``."""
    *package, name = module.split(".")
    return "/".join(["tests", *package, f"test_{name}.py"])


def misplaced(patches: list[Patch]) -> dict[str, tuple[str, str]]:
    """The patches whose held_by is not in the test file mirroring their module: name -> (held_by's file, mirror)."""
    found = {}
    for patch in patches:
        path = patch.held_by.partition("::")[0]
        mirror = mirrored_test_file(patch.apply.__module__)
        if path != mirror:
            found[patch.name] = (path, mirror)
    return found


def test_every_patch_is_held_by_a_test_in_the_file_that_mirrors_its_module() -> None:
    """A patch in ``local_account/patches/fidelity/pipes.py`` is held by a test of
    ``tests/local_account/patches/fidelity/test_pipes.py``, and so for every patch (docs/local-account.md)."""
    from local_account.patches import PATCHES

    wrong = misplaced(PATCHES)
    assert not wrong, "; ".join(f"{name}: held in {path}, not {mirror}" for name, (path, mirror) in wrong.items())


def test_a_patch_held_by_a_test_elsewhere_is_found() -> None:
    from local_account.patches.fidelity import pipes

    mirror = "tests/local_account/patches/fidelity/test_pipes.py"
    assert mirrored_test_file(pipes.pipe_batches_the_target_takes.__module__) == mirror
    held = Patch("here", "fidelity", pipes.pipe_batches_the_target_takes, f"{mirror}::test_a")
    elsewhere = Patch(
        "elsewhere", "fidelity", pipes.pipe_batches_the_target_takes, "tests/local_account/test_pipes.py::test_a"
    )
    assert misplaced([held, elsewhere]) == {"elsewhere": ("tests/local_account/test_pipes.py", mirror)}


def test_the_patch_named_by_the_environment_is_left_out_and_said_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = SimpleNamespace(a=1, b=1)
    monkeypatch.setenv(WITHOUT, "b")
    patcher = Patcher()

    def setting(name: str) -> Callable[[Patcher], None]:
        return lambda patcher: patcher.replace(target, name, 2)

    patcher.apply([Patch(n, "fidelity", setting(n), "none") for n in ("a", "b")])
    assert (target.a, target.b, patcher.applied) == (2, 1, ["a"])
    assert "patch 'b' left out" in capsys.readouterr().err
