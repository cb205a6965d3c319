#!/usr/bin/env bash
# opt-in-tests.sh: the tests that `go test ./...` skips unless an
# environment variable asks for them, because they take minutes or need
# real MNIST:
#   RESQ_LONG=1          quant    TestSearchGapLarge: the step search against the exact sweep, 784x1024 layer
#   RESQ_MNIST=EPOCHS    train    TestMNIST: DefaultConfig's MLP on MNIST, test error bound
#   RESQ_SWEEP_PRESET=P  pipeline TestPresetReal: the whole preset P with the real runner
# Prints one line per test (PASS/FAIL, seconds) and a Markdown row to paste
# into docs/TESTING.md, which records when each last passed. Exits non-zero
# when any failed.
#
# Environment: EPOCHS (RESQ_MNIST, default 2), PRESET (default quick),
# LOGS (a folder for the -v output; default a temp folder, kept on failure).
# MNIST must be cached or fetchable.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
EPOCHS=${EPOCHS:-2}
PRESET=${PRESET:-quick}
LOGS=${LOGS:-$(mktemp -d /tmp/resq-optin.XXXXXX)}
mkdir -p "$LOGS"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && rev="$rev+dirty"
fails=0
rows=()
one() { # one NAME ENV PKG RUN
	local name=$1 env=$2 pkg=$3 run=$4 t0=$SECONDS st=PASS
	env "$env" go test -count=1 -timeout 60m -run "^$run\$" -v "$pkg" >"$LOGS/$name.log" 2>&1 || st=FAIL
	grep -q -- "--- SKIP: $run" "$LOGS/$name.log" && st=SKIP
	grep -q -- "--- PASS: $run" "$LOGS/$name.log" || [ $st != PASS ] || st=FAIL
	[ $st = PASS ] || fails=$((fails + 1))
	printf '%-4s %-58s %4ds\n' "$st" "$env go test -run $run $pkg" $((SECONDS - t0))
	rows+=("| \`$env go test -run $run $pkg\` | $st | $((SECONDS - t0)) s | $(date -u +%Y-%m-%d) | $rev |")
}
one gap RESQ_LONG=1 ./quant TestSearchGapLarge
one mnist RESQ_MNIST="$EPOCHS" ./train TestMNIST
one preset RESQ_SWEEP_PRESET="$PRESET" ./pipeline TestPresetReal
echo
echo "| test | result | time | date (UTC) | commit |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ $fails -eq 0 ]; then
	case $LOGS in /tmp/resq-optin.*) rm -rf "$LOGS" ;; esac
	exit 0
fi
echo "opt-in-tests: $fails failed or skipped; logs in $LOGS" >&2
exit 1
