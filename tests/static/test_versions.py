"""One Terraform version for the root, every module and every example: the oldest that has their features."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATIONS = [ROOT, *sorted((ROOT / "modules").iterdir()), *sorted((ROOT / "examples").iterdir())]
# The first Terraform version of each feature the configurations use (its CHANGELOG):
# a validation naming another variable (1.9).
CROSS_VARIABLE_VALIDATION = (1, 9)


def required_versions(folder: Path) -> set[str]:
    """The ``required_version`` constraints of a configuration's ``terraform`` blocks."""
    found = set()
    for path in folder.glob("*.tf"):
        for block in hcl2.load(path.open()).get("terraform", []):
            if "required_version" in block:
                found.add(str(block["required_version"]).strip('"'))
    return found


def needs(folder: Path) -> tuple[int, int]:
    """The oldest Terraform version whose features a configuration uses (1.0 when it uses none counted here)."""
    for path in folder.glob("*.tf"):
        for variable in hcl2.load(path.open()).get("variable", []):
            ((name, body),) = variable.items()
            for validation in body.get("validation", []):
                named = set(re.findall(r"var\.([A-Za-z0-9_]+)", str(validation["condition"])))
                if named - {name.strip('"')}:
                    return CROSS_VARIABLE_VALIDATION
    return (1, 0)


def test_every_configuration_declares_one_version() -> None:
    declared = {folder.relative_to(ROOT).as_posix() or ".": required_versions(folder) for folder in CONFIGURATIONS}
    assert all(len(v) == 1 for v in declared.values()), declared
    assert len(set.union(*declared.values())) == 1, f"one required_version everywhere: {declared}"


def test_the_declared_version_has_every_feature_used() -> None:
    (declared,) = required_versions(ROOT)
    match = re.fullmatch(r">= (\d+)\.(\d+)", declared)
    assert match, f"the root declares a lower bound: {declared}"
    oldest = max(needs(folder) for folder in CONFIGURATIONS)
    assert oldest == (int(match.group(1)), int(match.group(2))), f"the features used need {oldest}, declared {declared}"


def test_a_validation_naming_another_variable_is_found() -> None:
    assert needs(ROOT / "modules" / "account_access") == CROSS_VARIABLE_VALIDATION, "grants' validation names var.api"
    assert needs(ROOT / "modules" / "tables") == (1, 0)
