#!/usr/bin/env bash
# Set up FF Platform on a Debian/Ubuntu machine: the system packages it needs (if missing), a
# virtualenv (VENV_DIR, default .venv), every locked dependency from requirements/lock.txt, then
# the project itself in editable mode. scripts/test and scripts/run-all call it before every run,
# so it must be safe to run again and cost almost nothing when nothing changed:
#
# - System packages: Pango and HarfBuzz-subset for WeasyPrint (PDF reports) and bubblewrap (`bwrap`, the tool
#   sandbox). Checked with `ldconfig -p` and `command -v`; apt runs only when one is missing.
# - Python packages: the SHA-256 of the locks (pip.txt, lock.txt), pyproject.toml and this script is recorded in
#   $VENV/.ff-setup-hash after a successful install. When it matches and the venv's python is
#   there, pip is not started at all. When it differs, the lock is installed again (pip checks
#   every file against the lock's hashes) and the stamp rewritten.
#
# Usage: scripts/setup.sh            set up what is missing, quietly when nothing is
#        scripts/setup.sh --check    exit 0 if the venv is up to date, 1 if setup would install
# Environment: VENV_DIR (default .venv, relative to the repository root), VENV_PYTHON (the
# interpreter a new venv is made with; default python3.11, else python3, which must be >= 3.11).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

VENV="${VENV_DIR:-.venv}"
STAMP="$VENV/.ff-setup-hash"
LOCK="requirements/lock.txt"
PIP_LOCK="requirements/pip.txt"  # the pip that installs the lock (see requirements/pip.in)

say() { echo "setup: $*" >&2; }

wanted_hash() { cat "$PIP_LOCK" "$LOCK" pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1; }

venv_is_current() {
  [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_hash)" ]
}

if [ "${1:-}" = "--check" ]; then
  venv_is_current
  exit
fi

# --- System packages (apt only when something is missing) ---------------------------------------
missing_system_packages() {
  local libs
  # ldconfig lives in /sbin, which is not on a normal user's PATH on Debian.
  libs="$(PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null || true)"
  if [[ $libs != *libpango-1.0.so.0* || $libs != *libpangoft2-1.0.so.0* ]]; then
    echo libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
  elif [[ $libs != *libharfbuzz-subset.so.0* ]]; then
    echo libharfbuzz-subset0  # WeasyPrint subsets fonts with it (and warns, in every PDF, without it)
  fi
  command -v bwrap >/dev/null 2>&1 || echo bubblewrap
}

apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need root or sudo to install: $*"; exit 1; }
    sudo="sudo"
  fi
  say "installing system packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# shellcheck disable=SC2207  # package names have no spaces
system_packages=($(missing_system_packages))
if [ ${#system_packages[@]} -gt 0 ]; then
  apt_install "${system_packages[@]}"
fi

# --- Python packages (skipped entirely when the stamp matches) ----------------------------------
venv_is_current && exit 0

# Two commands started together on a fresh machine must not run pip into one venv at once: take a
# lock (on this script's own file, which always exists), then look again.
if command -v flock >/dev/null 2>&1; then
  exec 9<"$ROOT/scripts/setup.sh"
  flock 9
  venv_is_current && exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  PYTHON="${VENV_PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
  [ -n "$PYTHON" ] || { say "no python3 found; install Python 3.11 (Debian/Ubuntu: apt-get install python3 python3-venv)"; exit 1; }
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { say "$PYTHON is older than 3.11; set VENV_PYTHON=/path/to/python3.11"; exit 1; }
  # Debian and Ubuntu ship venv's pip bootstrap separately (python3.X-venv).
  if ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
    case "$PYTHON" in
      /usr/bin/*) apt_install "python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv" ;;
      *) say "$PYTHON has no ensurepip, so it cannot make a venv"; exit 1 ;;
    esac
  fi
  say "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi

rm -f "$STAMP"
say "installing the locked pip ($PIP_LOCK), then the locked dependencies ($LOCK) into $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r "$PIP_LOCK"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$LOCK"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
"$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check >&2; exit 1; }
wanted_hash >"$STAMP"
say "done ($VENV). scripts/test and scripts/run-all use it as it is; to use it by hand: . $VENV/bin/activate"
