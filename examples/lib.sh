# Shared by the example scripts (source it after setting $root, the
# repository root).

# build_resq NAME [PKG...]: builds ./cmd/resq (and each extra package PKG
# into a binary named after its last element) without cgo into a temporary
# folder removed on exit, logging as NAME; sets $bin to the folder and
# $resq to the resq binary. Exits 2 when the Go toolchain is missing.
build_resq() {
  local name=$1 pkg
  shift
  command -v go >/dev/null || { echo "$name: needs the Go toolchain (https://go.dev/dl/)" >&2; exit 2; }
  bin=$(mktemp -d "${TMPDIR:-/tmp}/resq-$name-bin.XXXXXX")
  trap 'rm -rf "$bin"' EXIT
  echo "$name: building resq into $bin" >&2
  (cd "$root" && CGO_ENABLED=0 go build -o "$bin/resq" ./cmd/resq) || exit 2
  for pkg in "$@"; do
    (cd "$root" && CGO_ENABLED=0 go build -o "$bin/$(basename "$pkg")" "$pkg") || exit 2
  done
  resq=$bin/resq
}
