#!/usr/bin/env bash
# Runs the tests of every module in this repository: the library and each
# module in a subfolder with its own go.mod (tools/ holds only pinned tools).
# Arguments go to go test: ./test.sh -race, ./test.sh -count=1 -v.
set -euo pipefail
cd "$(dirname "$0")"
# The debug page's browser test needs Chromium. Where none is installed (a
# developer's machine with only Go), it is skipped, and says so; CI installs
# Chromium and sets ACTIONS_NO_BROWSER= (empty) so that it always runs there.
if [ -z "${ACTIONS_NO_BROWSER+set}" ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && ! command -v google-chrome >/dev/null; then
  echo "note: no Chromium found: the debug page's browser test will be skipped (ACTIONS_NO_BROWSER=1)" >&2
  export ACTIONS_NO_BROWSER=1
fi
status=0
for dir in . $(git ls-files '*/go.mod' | xargs -r -n1 dirname); do
  [ "$dir" = tools ] && continue
  echo "== $dir" >&2
  (cd "$dir" && go test "$@" ./...) || status=1
done
exit $status
