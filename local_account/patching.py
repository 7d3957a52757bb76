"""The local account's patches of moto, named, listed by purpose, applied in a written order, undoable.

Each patch replaces attributes of moto's (or another library's) modules and classes through a
``Patcher``, which refuses loudly when a target is missing (a moto upgrade that renamed a method would
otherwise leave the patch silently undone) and remembers what it replaced, so that ``undo`` puts every
original back, newest first. The versions the patches were written against are checked before any is
applied. LocalStack's ``localstack.utils.patch.Patch`` does the same for one function; the local
account does not depend on LocalStack, so this is its equivalent for attributes of any kind.

Each patch names the test that fails without it (``held_by``). ``make check-patches`` proves it: it runs
each such test in a process started with ``CQRS_LOCAL_ACCOUNT_WITHOUT`` naming the patch, which ``Patcher.apply``
then leaves out (loudly, on stderr), and expects the test to fail.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

# What a patch is for. Fidelity patches make moto answer as AWS documents; fault and metering patches
# add the benchmark's injected faults and counters (off or read-only unless asked for); speed patches
# change no answer; feature patches add what moto lacks.
PURPOSES = ("fidelity", "faults", "metering", "speed", "feature")
# The versions the patches were written and tested against: another version must be checked first.
PINNED = {"moto": "5.2.5"}

# The name of one patch to leave out, for make check-patches (tools/check_patches.py) only.
WITHOUT = "CQRS_LOCAL_ACCOUNT_WITHOUT"

_ABSENT = object()


class PatchTargetMissingError(RuntimeError):
    """A patch's target is not where the patch expects it: the library changed under it."""


class VersionMismatchError(RuntimeError):
    """A library the patches depend on is not the version they were written against."""


@dataclass(frozen=True)
class Patch:
    """One named change, for one purpose; ``apply`` makes it through the patcher it is given.

    ``held_by`` is the pytest node id of the test that fails without the patch.
    """

    name: str
    purpose: str
    apply: Callable[[Patcher], None]
    held_by: str

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise ValueError(f"{self.name}: purpose {self.purpose!r} is not one of {PURPOSES}")


@dataclass
class Patcher:
    """Replaces attributes and remembers the originals, so that every replacement can be undone."""

    applied: list[str] = field(default_factory=list)  # patch names, in the order applied
    values: dict[str, list[Any]] = field(default_factory=dict)  # patch name -> what it put in place
    _replaced: list[tuple[Any, str, Any]] = field(default_factory=list)
    _current: str = ""

    def replace(self, target: Any, attribute: str, value: Any) -> None:
        """Set ``target.attribute`` to ``value``; refuse when the target has no such attribute."""
        if not hasattr(target, attribute):
            raise PatchTargetMissingError(f"{self._current}: {target!r} has no attribute {attribute!r}")
        own = vars(target).get(attribute, _ABSENT) if hasattr(target, "__dict__") else getattr(target, attribute)
        self._replaced.append((target, attribute, own))
        self.values.setdefault(self._current, []).append(value)
        setattr(target, attribute, value)

    def add(self, target: Any, attribute: str, value: Any) -> None:
        """Give ``target`` an attribute it lacks (a feature moto has not); refuse when it has one already,
        since moto's own would then be replaced unseen."""
        if hasattr(target, attribute):
            raise PatchTargetMissingError(f"{self._current}: {target!r} already has {attribute!r}: check it first")
        self._replaced.append((target, attribute, _ABSENT))
        self.values.setdefault(self._current, []).append(value)
        setattr(target, attribute, value)

    def apply(self, patches: Iterable[Patch]) -> None:
        """Apply each patch, in order (but the one ``CQRS_LOCAL_ACCOUNT_WITHOUT`` names, if any)."""
        left_out = os.environ.get(WITHOUT)
        for patch in patches:
            if patch.name == left_out:
                print(f"local account: patch {patch.name!r} left out ({WITHOUT})", file=sys.stderr)
                continue
            self._current = patch.name
            patch.apply(self)
            self.applied.append(patch.name)
        self._current = ""

    def undo(self) -> None:
        """Put back every original, newest first."""
        while self._replaced:
            target, attribute, original = self._replaced.pop()
            if original is _ABSENT:
                delattr(target, attribute)
            else:
                setattr(target, attribute, original)
        self.applied.clear()
        self.values.clear()


def check_versions(pinned: dict[str, str] | None = None) -> None:
    """Refuse to patch a library whose installed version is not the one the patches were written for."""
    for package, wanted in (pinned or PINNED).items():
        found = metadata.version(package)
        if found != wanted:
            raise VersionMismatchError(
                f"{package} {found} is installed; the local account's patches were written against {wanted}: "
                f"check each patch against {package} {found}, then update local_account.patching.PINNED"
            )
