#!/usr/bin/env python3
"""Build dist/lambda.zip: the aggregator package plus its pinned runtime wheels, reproducibly.

Two builds from the same sources and pins give byte-identical zips: entries are
sorted, every timestamp is 1980-01-01, permissions are fixed and compression is
fixed. Terraform reads only the file and its hash, so it redeploys exactly when
the code or a pin changes.

Usage: python build.py [--arch arm64|x86_64] [--python 3.12] [--output dist/lambda.zip]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "lambda_src"
PACKAGE = "ledger_aggregator"
REQUIREMENTS = SOURCE / "requirements.txt"
CACHE = ROOT / ".cache" / "wheels"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
PLATFORMS = {
    "arm64": ["manylinux2014_aarch64", "manylinux_2_28_aarch64"],
    "x86_64": ["manylinux2014_x86_64", "manylinux_2_28_x86_64"],
}
# Provided by every Lambda Python runtime; shipping them only adds size.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python_dateutil", "six"}
SKIPPED_PARTS = {"__pycache__", "tests", "test"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def main(argv: list[str] | None = None) -> int:
    """Build the zip and print its path, size and sha256."""
    args = parse_args(argv)
    wheels = fetch_wheels(args.arch, args.python)
    entries = dict(package_entries())
    for wheel in wheels:
        entries.update(wheel_entries(wheel))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(reproducible_zip(entries))
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"path   {output}")
    print(f"size   {output.stat().st_size} bytes ({len(entries)} files, {len(wheels)} wheels, {args.arch})")
    print(f"sha256 {digest}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64", help="Lambda architecture")
    parser.add_argument("--python", default="3.12", help="Lambda runtime's Python version (default 3.12)")
    parser.add_argument("--output", default=str(ROOT / "dist" / "lambda.zip"), help="where to write the zip")
    return parser.parse_args(argv)


def fetch_wheels(arch: str, python: str) -> list[Path]:
    """Download the pinned wheels for the Lambda platform into a cache (reused when present)."""
    target = CACHE / f"{arch}-py{python}"
    target.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    command += [f"--platform={p}" for p in PLATFORMS[arch]]
    command += ["--implementation=cp", f"--python-version={python}", "--dest", str(target), "-r", str(REQUIREMENTS)]
    print(f"fetching pinned wheels for {arch}, Python {python} ...", file=sys.stderr)
    subprocess.run(command, check=True)
    wheels = sorted(target.glob("*.whl"))
    wanted = pinned_names()
    chosen = [w for w in wheels if normalise(w.name.split("-")[0]) in wanted]
    missing = wanted - {normalise(w.name.split("-")[0]) for w in chosen}
    if missing:
        raise SystemExit(f"build: no wheel for {sorted(missing)} on {arch}/Python {python}")
    return latest_per_project(chosen)


def pinned_names() -> set[str]:
    """Projects named in lambda_src/requirements.txt."""
    return set(pins())


def latest_per_project(wheels: list[Path]) -> list[Path]:
    """One wheel per project: the cache may hold files of older pins; keep the pinned version."""
    pinned = pins()
    chosen = [w for w in wheels if w.name.split("-")[1] == pinned.get(normalise(w.name.split("-")[0]))]
    return sorted(chosen)


def pins() -> dict[str, str]:
    """Project name to pinned version, from lambda_src/requirements.txt (every line must pin with ==)."""
    found = {}
    for raw in REQUIREMENTS.read_text().splitlines():
        requirement = raw.split("#")[0].strip()
        if not requirement:
            continue
        if "==" not in requirement:
            raise SystemExit(f"build: {REQUIREMENTS.name} must pin every project with ==, not {requirement!r}")
        name, version = requirement.split("==")
        found[normalise(name)] = version.strip()
    return found


def normalise(name: str) -> str:
    """PEP 503-style project name, as wheel file names spell it."""
    return name.strip().lower().replace("-", "_").replace(".", "_")


def package_entries() -> Iterator[tuple[str, bytes]]:
    """The aggregator's own source files."""
    for path in sorted((SOURCE / PACKAGE).rglob("*")):
        relative = path.relative_to(SOURCE)
        if path.is_file() and keep(str(relative)):
            yield relative.as_posix(), path.read_bytes()


def wheel_entries(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """A wheel's files as they install into the zip's root (purelib and platlib alike)."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = installed_name(info.filename)
            if name and not info.is_dir() and keep(name) and top_level(name) not in RUNTIME_PROVIDED:
                yield name, archive.read(info)


def installed_name(name: str) -> str | None:
    """Where a wheel member lands when installed; None for scripts, headers and data."""
    first, _, rest = name.partition("/")
    if not first.endswith(".data"):
        return name
    kind, _, inner = rest.partition("/")
    return inner if kind in ("purelib", "platlib") else None


def top_level(name: str) -> str:
    """The importable top-level name of a zip entry."""
    return normalise(name.split("/", 1)[0].split("-", 1)[0].removesuffix(".py"))


def keep(name: str) -> bool:
    """Leave out caches, compiled files, tests and wheel install records."""
    parts = set(name.split("/"))
    return not (parts & SKIPPED_PARTS) and not name.endswith(SKIPPED_SUFFIXES) and not name.endswith("/RECORD")


def reproducible_zip(entries: dict[str, bytes]) -> bytes:
    """A zip whose bytes depend only on the entries: sorted, fixed time, mode and compression."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
