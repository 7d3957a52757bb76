"""Apache Velocity 1.7, the engine AWS documents for mapping templates, in a long-lived JVM.

``local_account/java/Renderer.java`` renders with Velocity itself and AWS's ``$input``, ``$util`` and
``$context`` written from AWS's reference; this module compiles it once per source text (into
``.cache/velocity/<hash>``), starts it on first use and talks to it over a pipe, one JSON line each
way. One process serves a Python process: renders are serialised by a lock (a render takes a fraction
of a millisecond), and a process that died is started again on the next render.

The jars are Debian's packages (``JAVA_PACKAGES``), installed by ``tools/java_deps.sh``
(``make java-deps``, which ``make test`` runs first); ``unavailable()`` says what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(__file__).resolve().parent / "java" / "Renderer.java"
# Debian's packages and the jars they install in Debian's Java library folder (JAVA_LIBRARY overrides it).
JAVA_PACKAGES = "velocity libcommons-lang-java libcommons-collections3-java libjackson2-databind-java libjsonpath-java"
JARS = (
    "velocity",
    "commons-lang",
    "commons-collections3",
    "jackson-databind",
    "jackson-core",
    "jackson-annotations",
    "json-path",
    "json-smart",
    "accessors-smart",
    "slf4j-api",
    "slf4j-nop",
)


def _library() -> Path:
    return Path(os.environ.get("JAVA_LIBRARY", "/usr/share/java"))


def classpath() -> list[Path]:
    """The jars the renderer needs, where Debian installs them."""
    return [_library() / f"{name}.jar" for name in JARS]


def unavailable() -> str | None:
    """Why the reference engine cannot run here, or None when it can."""
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (Java 17: Debian's openjdk-17-jdk-headless)"
    missing = [jar.name for jar in classpath() if not jar.is_file()]
    if missing:
        return f"missing {', '.join(missing)}: run `make java-deps` (Debian packages: {JAVA_PACKAGES})"
    return None


def _compiled() -> Path:
    """The renderer's classes, compiled once per source text (atomically: parallel test parts may race)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    target = ROOT / ".cache" / "velocity" / digest
    if (target / "ledger" / "Renderer.class").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent))
    cp = os.pathsep.join(str(jar) for jar in classpath())
    subprocess.run(["javac", "-d", str(staging), "-cp", cp, str(SOURCE)], check=True, capture_output=True)
    try:
        staging.rename(target)
    except OSError:  # another process compiled the same source first
        shutil.rmtree(staging, ignore_errors=True)
    return target


class Velocity:
    """A Velocity 1.7 process that renders mapping templates, one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._ids: dict[str, str] = {}  # template text -> id
        self._sent: set[str] = set()  # the ids whose text the running process has

    def _start(self) -> subprocess.Popen[str]:
        reason = unavailable()
        if reason:
            raise RuntimeError(f"Apache Velocity 1.7 cannot run: {reason}")
        cp = os.pathsep.join([str(_compiled()), *(str(jar) for jar in classpath())])
        command = ["java", "-Xss4m", "-XX:+UseSerialGC", "-cp", cp, "ledger.Renderer"]
        return subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="ascii", bufsize=1
        )

    def render(self, template: str, request: dict[str, Any]) -> dict[str, Any]:
        """Render ``template`` for one request (see Renderer.java): ``body`` and ``context``, or ``error``.

        The process keeps each template compiled under an id, so its text crosses the pipe once.
        """
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process, self._sent = self._start(), set()
            key = self._ids.setdefault(template, str(len(self._ids)))
            if key not in self._sent:
                request = {**request, "template": template}
                self._sent.add(key)
            line = json.dumps({**request, "templateId": key}, ensure_ascii=True) + "\n"
            pipes: tuple[IO[str], IO[str]] = (self._process.stdin, self._process.stdout)  # type: ignore[assignment]
            pipes[0].write(line)
            pipes[0].flush()
            answer = pipes[1].readline()
        if not answer:
            raise RuntimeError("the Velocity process ended without answering")
        return dict(json.loads(answer))


ENGINE = Velocity()
