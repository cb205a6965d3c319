#!/usr/bin/env bash
# arm64 check of the packed engine's integer kernels (correctness only: an
# emulated CPU says nothing about speed). Cross-compiles the tests of
# packed/internal/kernels for linux/arm64 and runs every one of them under
# qemu-aarch64 user-mode emulation on two CPU models:
#   -cpu cortex-a53  Advanced SIMD without the dot product: kernels go, neon
#   -cpu max         with FEAT_DotProd (SDOT): kernels go, neon, dotprod
# Every test compares each kernel the CPU has with kernels.GemmRef; the
# kernel list each run sees is checked, so both assembly paths run. Then
# the same tests built with -tags purego (pure Go only) on cortex-a53, and
# GOARCH=arm64 builds of the module (with and without purego).
# Installs qemu-user-static (Debian) when missing. About 30 s on 2 cores.
# Exit status 1 on any failure, 2 if QEMU cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v qemu-aarch64-static >/dev/null; then
	echo "arm64-check: installing qemu-user-static" >&2
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null; }; then
		echo "arm64-check: qemu-user-static could not be installed" >&2
		exit 2
	fi
fi
work=$(mktemp -d /tmp/resq-arm64.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0
GOARCH=arm64 go build ./...
GOARCH=arm64 go build -tags purego ./...
GOARCH=arm64 go vet ./packed/internal/kernels
GOARCH=arm64 go test -c -o "$work/kernels.test" ./packed/internal/kernels
GOARCH=arm64 go test -c -tags purego -o "$work/kernels-purego.test" ./packed/internal/kernels

# run CPU BINARY WANT: all tests of BINARY on CPU; WANT (if not empty) is
# the kernel list TestArm64Available must log.
run() {
	local out
	if ! out=$(qemu-aarch64-static -cpu "$1" "$2" -test.count=1 -test.v 2>&1); then
		echo "$out" | grep -E '^(---|FAIL|panic)|_test.go' | head -40
		echo "arm64-check: FAIL on -cpu $1 ($(basename "$2"))"
		exit 1
	fi
	if [ -n "$3" ] && ! grep -q "kernels: \[$3\]" <<<"$out"; then
		echo "$out" | grep 'kernels: ' || true
		echo "arm64-check: -cpu $1 did not see the kernels [$3]"
		exit 1
	fi
	echo "arm64-check: -cpu $1 $(basename "$2"): $(grep -c '^--- PASS' <<<"$out") tests pass, $(grep -c '^--- SKIP' <<<"$out") skip; $(grep -o 'kernels: \[[^]]*\] selected [a-z0-9]*' <<<"$out" || echo 'pure Go')"
}
run cortex-a53 "$work/kernels.test" "go neon"
run max "$work/kernels.test" "go neon dotprod"
run cortex-a53 "$work/kernels-purego.test" ""
echo "arm64-check: pass"
