#!/usr/bin/env bash
# Build the desktop bundle with build_installer.spec, then run its self-test.
#   bash .ci/build_installer.sh            (uses .venv/bin/python, or $PYTHON)
# Windows (Git Bash) and macOS work the same way with their own Python; the
# bundle lands in dist/auditviewer/ (and dist/auditviewer.app on macOS).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
"$PY" -m pip install -q '.[build,postgres,mysql]'

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller build_installer.spec
built=$(( $(date +%s) - start ))
echo "bundle built in ${built} s: $(du -sh dist/auditviewer | cut -f1) in dist/auditviewer"

exe=dist/auditviewer/auditviewer
[ -x "$exe" ] || exe=dist/auditviewer/auditviewer.exe
QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" "$exe" --selftest
