"""Every relative link and anchor in the project's Markdown files resolves."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tools import test_parts
from tools.docs import blocks, expected_files, figures_block, object_attributes
from tools.test_parts import summaries

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", ".venv-checkov", ".terraform", ".cache", ".git", "node_modules", "dist", ".sandbox"}
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def markdown_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.md") if not SKIPPED & set(p.relative_to(ROOT).parts))


def slugs(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped but - and _, spaces to -, repeats numbered."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", path.read_text()), re.M):
        base = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slug, n = base, 0
        while slug in found:
            n += 1
            slug = f"{base}-{n}"
        found.add(slug)
    return found


def links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text())
    return [a or b for a, b in LINK.findall(text)]


def test_there_are_documents_and_links_to_check() -> None:
    assert len(markdown_files()) >= 3
    assert sum(len(links(p)) for p in markdown_files()) >= 20


def broken_links(path: Path) -> list[str]:
    """The relative links of a Markdown file whose file or heading anchor does not exist."""
    broken = []
    for target in links(path):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not followed (no network)
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in slugs(resolved):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    return broken


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_a_missing_file_or_anchor_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Fault injection (local)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## The API: who\n\n[a](#the-api-who) [b](other.md#fault-injection-local) [c](https://x.y)\n"
        "[d](#nowhere) [e](missing.md) [f](other.md#fault-injection)\n```\n[g](#in-a-fence)\n```\n"
    )
    assert broken_links(page) == [
        "#nowhere: no heading with anchor #nowhere",
        "missing.md: no such file",
        "other.md#fault-injection: no heading with anchor #fault-injection",
    ]


def test_the_generated_terraform_docs_are_up_to_date() -> None:
    """Each module's README.md and the root inputs and outputs in docs/deploying.md (run make docs)."""
    expected = expected_files()
    stale = [str(p.relative_to(ROOT)) for p, text in expected.items() if not p.exists() or p.read_text() != text]
    assert stale == []


DOC_LINK = re.compile(r"\((docs/[\w.-]+\.md#[\w-]+)\)")


def variable_descriptions() -> list[tuple[str, str]]:
    """(``folder/name``, description) of every variable of the root, the modules and the examples."""
    folders = [ROOT, *sorted((ROOT / "modules").iterdir()), *sorted((ROOT / "examples").iterdir())]
    return [
        (f"{folder.relative_to(ROOT)}/{name}", str(body.get("description", "")))
        for folder in folders
        if folder.is_dir()
        for name, body in blocks(folder, "variable")
    ]


def description_faults(description: str) -> list[str]:
    """What keeps a variable's description from being one sentence plus a link to where more is said."""
    faults = []
    prose = DOC_LINK.sub("", re.sub(r"`[^`]*`", "code", description))
    if re.search(r"[.!?]\s+\S", prose.rstrip(".")):
        faults.append("more than one sentence")
    if len(prose) > 160:
        faults.append(f"{len(prose)} characters of prose (at most 160)")
    for target in DOC_LINK.findall(description):
        file_part, _, anchor = target.partition("#")
        if not (ROOT / file_part).exists() or anchor not in slugs(ROOT / file_part):
            faults.append(f"{target} does not resolve")
    return faults


def test_every_variable_is_described_in_one_sentence_with_a_link_to_the_rest() -> None:
    found = {name: description_faults(text) for name, text in variable_descriptions()}
    assert len(found) >= 60
    assert {name: faults for name, faults in found.items() if faults} == {}


def test_a_long_description_or_a_broken_link_is_a_fault() -> None:
    assert description_faults("One thing (docs/deploying.md#api).") == []
    assert description_faults("Two things. Like `a. B` and e.g. this.") == ["more than one sentence"]
    assert description_faults("x" * 161) == ["161 characters of prose (at most 160)"]
    broken = "docs/deploying.md#nowhere"
    assert description_faults(f"Elsewhere ({broken}).") == [f"{broken} does not resolve"]


def test_an_object_types_attributes_are_read_with_their_defaults() -> None:
    kind = 'object({a = optional(number, 5), b = string, c = optional(list(string), ["x, y"]), d = optional(bool)})'
    assert object_attributes(kind) == [
        ("a", "number", "5"),
        ("b", "string", ""),
        ("c", "list(string)", '["x, y"]'),
        ("d", "bool", "null"),
    ]
    assert object_attributes("list(object({a = string}))") == [("a", "string", "")]
    assert object_attributes("map(string)") == []


def test_each_tools_counts_are_read_from_a_parts_output() -> None:
    output = (
        "==> unit tests\n.....\n===== 228 passed, 1 warning in 124.01s (0:02:04) =====\n"
        "Success! 54 passed, 0 failed.\nPassed checks: 250, Failed checks: 0, Skipped checks: 46\n"
        "=== 1 failed, 3 passed, 2 skipped in 3.20s ===\nnot a summary: 5 passed\n"
        "Success: no issues found in 47 source files\nContracts: 5 kept, 0 broken.\n"
    )
    assert summaries(output) == [
        "228 passed, 1 warning",
        "54 passed, 0 failed",
        "Passed checks: 250, Failed checks: 0, Skipped checks: 46",
        "1 failed, 3 passed, 2 skipped",
        "no issues found in 47 source files",
        "Contracts: 5 kept, 0 broken",
    ]


def test_a_failed_run_is_never_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = tmp_path / "kept.json"
    monkeypatch.setattr(test_parts, "RECORD", kept)
    monkeypatch.setattr(test_parts, "measures_head", lambda commit: commit == "abc1234")
    run = {"commit": "abc1234", "date": "2026-11-28", "cores": 2, "ci": True, "seconds": 480, "exit": 2, "parts": []}
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps(run))
    assert test_parts.record(failed) == 2 and not kept.exists()
    passed = tmp_path / "passed.json"
    passed.write_text(json.dumps({**run, "exit": 0}))
    assert test_parts.record(passed) == 0 and json.loads(kept.read_text()) == {**run, "exit": 0}
    older = tmp_path / "older.json"
    older.write_text(json.dumps({**run, "exit": 0, "commit": "0123abc"}))
    assert test_parts.record(older) == 2, "a run of another commit is not recorded as this one's"


def test_only_a_run_of_head_is_recorded(tmp_path: Path) -> None:
    """A record goes in the commit of the change it measures: HEAD, or HEAD with the change on top."""
    repo, plain = tmp_path / "repo", tmp_path / "plain"
    repo.mkdir()
    plain.mkdir()
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    for message in ("first", "second"):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)
    head, parent = (
        subprocess.run([*git, "rev-parse", "--short", rev], capture_output=True, text=True, check=True).stdout.strip()
        for rev in ("HEAD", "HEAD~1")
    )
    assert test_parts.measures_head(head, repo) and test_parts.measures_head(head + "+changes", repo)
    assert not test_parts.measures_head(parent, repo)
    assert not test_parts.measures_head("unknown", repo)
    assert not test_parts.measures_head(head, plain), "no history: nothing is HEAD"


def test_the_quoted_figures_are_the_records() -> None:
    run = {
        "commit": "abc1234",
        "date": "2026-11-28",
        "cores": 2,
        "ci": True,
        "seconds": 481,
        "exit": 0,
        "parts": [
            {"name": "lint", "seconds": 33, "exit": 0, "summaries": []},
            {"name": "test-integration", "seconds": 412, "cpu_seconds": 250, "exit": 0, "summaries": ["154 passed"]},
        ],
    }
    rows = figures_block(run).splitlines()
    assert "commit `abc1234`" in rows[3] and "**481 s**" in rows[3] and "through `.ci/run`" in rows[3]
    assert rows[-3:-1] == [
        "| `make lint` | (no counts) | 33 s | - |",
        "| `make test-integration` | 154 passed | 412 s | 250 s |",
    ]


def test_the_quoted_machine_speed_is_taken_before_and_after_the_parts() -> None:
    run = {"commit": "abc1234", "date": "2026-12-06", "cores": 2, "ci": True, "seconds": 700, "exit": 0, "parts": []}
    before = figures_block({**run, "python_loop_seconds": 0.31})
    assert "loop took 0.31 s (`tools/machine.py`)." in before and "after the parts" not in before
    both = figures_block({**run, "python_loop_seconds": 0.31, "python_loop_seconds_after": 0.45})
    assert "loop took 0.31 s (`tools/machine.py`), and 0.45 s after the parts had ended." in both


def test_a_part_runs_at_its_niceness_and_its_cpu_time_is_counted(tmp_path: Path) -> None:
    makefile = tmp_path / "burn.mk"
    burn = (
        "import os, time; start = time.process_time(); sum(range(2 * 10**7));"
        " print('nice', os.nice(0), 'cpu', time.process_time() - start)"
    )
    makefile.write_text(f'burn:\n\t@python3 -c "{burn}"\n')
    done = test_parts.make("-f", str(makefile), "burn", nice=7)
    assert done.returncode == 0, done.stdout
    niceness, burnt = done.stdout.split()[1], float(done.stdout.split()[3])
    assert int(niceness) == os.nice(0) + 7
    assert done.cpu_seconds >= burnt > 0, "the CPU time of make's children is counted"
