#!/usr/bin/env bash
# Runs the tests of every module in this repository: the library and each
# module in a subfolder with its own go.mod (tools/ holds only pinned tools).
# Arguments go to go test: ./test.sh -race, ./test.sh -count=1 -v.
set -euo pipefail
cd "$(dirname "$0")"
status=0
for dir in . $(git ls-files '*/go.mod' | xargs -r -n1 dirname); do
  [ "$dir" = tools ] && continue
  echo "== $dir" >&2
  (cd "$dir" && go test "$@" ./...) || status=1
done
exit $status
