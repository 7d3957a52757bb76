#!/usr/bin/env bash
# Apache Velocity 1.7 and the jars the local account's template renderer needs (local_account/velocity.py),
# from Debian's packages. Installs them with apt-get when they are missing and this user may; otherwise
# says what is missing and exits 0 (the tests that need them then skip, loudly; CI requires them).
set -euo pipefail
cd "$(dirname "$0")/.."
missing="$(.venv/bin/python -c 'from local_account.velocity import unavailable; print(unavailable() or "")')"
[[ -z "$missing" ]] && { echo "java: Velocity 1.7 and its jars are installed" >&2; exit 0; }
packages="$(.venv/bin/python -c 'from local_account.velocity import JAVA_PACKAGES; print(JAVA_PACKAGES)')"
if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]] && command -v java >/dev/null; then
  echo "java: installing Debian packages: $packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages >/dev/null; }
  missing="$(.venv/bin/python -c 'from local_account.velocity import unavailable; print(unavailable() or "")')"
fi
[[ -z "$missing" ]] || echo "java: WARNING: the template renderer cannot run ($missing); template and integration tests will be skipped" >&2
