"""tools/terraformrc.sh: the CLI config it writes is never seen half-written.

Every make invocation runs it (the Makefile's TF_RC), and make test's parts run side by side: a terraform init
that read the file while another make rewrote it found no mirror and went to the registry ("could not connect
to registry.terraform.io", a CI run's integration tier)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "terraformrc.sh"


def test_a_reader_never_sees_the_config_half_written(tmp_path: Path) -> None:
    config = tmp_path / "terraformrc"
    first = subprocess.run([SCRIPT, str(config)], capture_output=True, text=True, check=True)
    if not first.stdout.strip():
        pytest.skip("no local provider mirror: the script writes no config")
    whole = config.read_text()
    seen: list[str] = []
    writing = True

    def read_while_written() -> None:
        while writing:
            seen.append(config.read_text() if config.exists() else "")

    reader = threading.Thread(target=read_while_written)
    reader.start()
    try:
        for _ in range(60):
            subprocess.run([SCRIPT, str(config)], capture_output=True, check=True)
    finally:
        writing = False
        reader.join()
    torn = [text for text in seen if text != whole]
    assert torn == [], f"{len(torn)} of {len(seen)} reads saw the config missing or half-written"
