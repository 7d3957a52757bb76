"""build.py: reproducible bytes, the right contents, and handlers that import from the zip alone."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What Terraform sets for the functions (the stream function's under PATTERN=1): a handler module builds
# its function's dependencies at import, and refuses to without them.
FUNCTION_SETTINGS = {
    "PATTERN": "1",
    "SUMMARY_TABLE": "summary",
    "APPLIED_TABLE": "applied",
    "BUFFER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/buffer",
    "DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
    "DEPLOYMENT_NAME": "ledger",
}
pytestmark = pytest.mark.slow


def build(output: Path, *extra: str) -> bytes:
    subprocess.run([sys.executable, str(ROOT / "build.py"), "--output", str(output), *extra], check=True)
    return output.read_bytes()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("build") / "lambda.zip"
    build(path)
    return path


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    assert build(tmp_path / "again.zip") == built.read_bytes()


def test_the_zip_holds_the_package_and_its_pins_but_not_the_runtime_sdk_or_caches(built: Path) -> None:
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert "ledger_aggregator/handlers/stream.py" in names
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    assert not [
        n for n in names if n.split("/")[0] in ("boto3", "botocore") or "__pycache__" in n or n.endswith(".pyc")
    ]
    assert built.stat().st_size < 3 * 1024 * 1024


def test_the_architecture_flag_selects_the_platform_wheels(built: Path, tmp_path: Path) -> None:
    other = tmp_path / "x86.zip"
    build(other, "--arch", "x86_64")
    with zipfile.ZipFile(built) as arm, zipfile.ZipFile(other) as x86:
        arm_native = [n for n in arm.namelist() if n.endswith(".so")]
        x86_native = [n for n in x86.namelist() if n.endswith(".so")]
    assert arm_native and all("aarch64" in n for n in arm_native)
    assert x86_native and all("x86_64" in n for n in x86_native)


def in_clean_interpreter(built: Path, tmp_path: Path, probe: str, tracing_disabled: str) -> Any:
    """Run ``probe`` in a fresh isolated interpreter with the extracted zip first on its path; its JSON output."""
    with zipfile.ZipFile(built) as archive:
        archive.extractall(tmp_path / "task")
    code = "import json, sys; sys.path.insert(0, sys.argv[1]);" + probe
    env = {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",  # Lambda sets both; boto3's clients, built at import, read this one
        "PATH": "/usr/bin:/bin",
        "POWERTOOLS_TRACE_DISABLED": tracing_disabled,
        "LAMBDA_TASK_ROOT": str(tmp_path / "task"),  # set by Lambda; the X-Ray SDK reads it
        **FUNCTION_SETTINGS,
    }
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, str(tmp_path / "task")], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


def test_handlers_import_from_the_zip_in_a_clean_interpreter(built: Path, tmp_path: Path) -> None:
    probe = (
        "import ledger_aggregator.handlers.stream as s, ledger_aggregator.handlers.writer as q;"
        "import aws_lambda_powertools as p;"
        "print(json.dumps([s.__file__, q.__file__, p.__file__, callable(s.handler), callable(q.handler)]))"
    )
    *files, stream_ok, queue_ok = in_clean_interpreter(built, tmp_path, probe, tracing_disabled="true")
    assert all(f.startswith(str(tmp_path / "task")) for f in files)
    assert stream_ok and queue_ok


@pytest.mark.parametrize(("disabled", "imports_xray"), [("true", False), ("false", True)])
def test_the_xray_sdk_is_imported_only_when_tracing_is_on(
    built: Path, tmp_path: Path, disabled: str, imports_xray: bool
) -> None:
    """X-Ray's SDK was ~95 ms of a 225 ms cold import, loaded even with tracing off."""
    probe = (
        "import ledger_aggregator.handlers.stream, ledger_aggregator.handlers.writer;"
        "print(json.dumps('aws_xray_sdk.core' in sys.modules))"
    )
    assert in_clean_interpreter(built, tmp_path, probe, tracing_disabled=disabled) is imports_xray


def test_with_tracing_on_only_the_aws_sdk_is_patched(built: Path, tmp_path: Path) -> None:
    """Powertools' default patched every library the X-Ray SDK supports, importing sqlite3 and more that
    these functions never call, at every cold start."""
    probe = (
        "import ledger_aggregator.handlers.stream, ledger_aggregator.handlers.writer;"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk.ext.'))))"
    )
    patched = in_clean_interpreter(built, tmp_path, probe, tracing_disabled="false")
    assert {"aws_xray_sdk.ext.botocore", "aws_xray_sdk.ext.botocore.patch"} <= set(patched)
    assert not [m for m in patched if m.split(".")[2] not in ("botocore", "boto_utils", "util")], patched


def test_the_zip_holds_the_handlers_and_the_core_only(built: Path) -> None:
    """The operator's CLI is its own package: nothing of it, nor its progress bars, is shipped."""
    with zipfile.ZipFile(built) as archive:
        ours = sorted(n for n in archive.namelist() if n.startswith("ledger_aggregator/"))
    expected = {
        "__init__.py",
        "codec.py",
        "config.py",
        "currencies.json",
        "currencies.py",
        "ids.json",
        "domain.py",
        "formats.py",
        "ports.py",
        "projector.py",
        "redelivery.py",
        "retirement.py",
        "composition.py",
        "summary_item.py",
        "balance_events.py",
        "day_close_events.py",
        "history.py",
        "history_item.py",
        "closer.py",
        "items.py",
        "balance_item.json",
        "hold_item.json",
        "holds.py",
        "adapters/holds.py",
        "adapters/__init__.py",
        "adapters/history.py",
        "adapters/dynamodb.py",
        "adapters/guard.py",
        "adapters/sqs.py",
        "handlers/__init__.py",
        "handlers/_common.py",
        "handlers/_tracing.py",
        "handlers/writer.py",
        "handlers/stream.py",
        "handlers/events.py",
        "handlers/closer.py",
        "handlers/sweeper.py",
    }
    assert {n.removeprefix("ledger_aggregator/") for n in ours} == expected
    with zipfile.ZipFile(built) as archive:
        assert not [n for n in archive.namelist() if n.split("/")[0] in ("ledger_ops", "tqdm", "consumer")]
        # The consumer's follower is a consumer's to take (consumer/), not the functions' to ship.
        assert b"BalanceFollower" not in archive.read("ledger_aggregator/balance_events.py")
