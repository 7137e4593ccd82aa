#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: the bundle
# (`python -m grader package gradescope`) lies unpacked in /autograder/source.
#   setup.sh                  install Python 3.11+ and the pinned environment (CPU build of torch)
#                             in /autograder/venv, lock the private files, check the result
#   setup.sh --skip-install   use the environment at $DLGRADE_PYTHON as it is; lock and check
# DLGRADE_AUTOGRADER_ROOT (default /autograder) moves the whole layout, for a trial run elsewhere.
set -euo pipefail
ROOT="${DLGRADE_AUTOGRADER_ROOT:-/autograder}"
COURSE="$ROOT/source/course"
PYTHON="${DLGRADE_PYTHON:-$ROOT/venv/bin/python}"

if [ "${1:-}" != "--skip-install" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq util-linux git >/dev/null  # setpriv and unshare: the sandbox's tools
  base=""
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      base="$candidate"; break
    fi
  done
  if [ -z "$base" ]; then
    apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    base=python3.11
  fi
  "$base" -m venv "$ROOT/venv" || { apt-get install -y -qq "$("$base" -c 'import sys; print(f"python3.{sys.version_info[1]}-venv")')" >/dev/null && "$base" -m venv "$ROOT/venv"; }
  PYTHON="$ROOT/venv/bin/python"
  "$PYTHON" -m pip install -q --upgrade pip
  # The CPU build of torch: Gradescope has no GPU, and the CUDA build is gigabytes.
  "$PYTHON" -m pip install -q -c "$COURSE/constraints.txt" --extra-index-url https://download.pytorch.org/whl/cpu -e "$COURSE"
fi

# Only root may read the oracles and the hidden tests; student code runs as another user.
chown -R root:root "$COURSE"
for private in "$COURSE/reference" "$COURSE"/assignments/*/hidden; do
  if [ -e "$private" ]; then chmod -R go-rwx "$private"; fi
done

"$PYTHON" -m grader.gradescope --check --root "$ROOT"
