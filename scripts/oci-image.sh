#!/usr/bin/env bash
# oci-image.sh: a container image of resq without a Docker engine.
#
# Builds the static resq binary (CGO_ENABLED=0), puts it at /resq in one
# layer on an empty base (OCI media types) with /tmp and the host's CA
# certificates (for dataset downloads), sets the entrypoint to /resq and
# RESQ_CACHE=/cache, and writes the image as a tarball tagged resq:TAG
# (docker-archive layout: manifest.json, config, one gzipped layer). The
# tool is go-containerregistry's crane, built from the Go module proxy; a
# registry crane serves on 127.0.0.1 for the seconds the build takes is
# the only place the image goes.
#
# Then it checks the tarball: crane validate, the config's entrypoint,
# platform and environment, the layer's files, and that /resq runs from the
# extracted layer (in a chroot of it when run as root: nothing else there).
#
#   scripts/oci-image.sh [OUT.tar]        # default out/resq-image.tar
#
# Load or push it:
#   docker load -i out/resq-image.tar            # or podman load, kind load image-archive
#   crane push out/resq-image.tar REGISTRY/resq:TAG
#
# Environment: TAG (default latest), CRANE (a crane binary; default: go
# install github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION),
# GOARCH (default amd64). Needs go and python3. Prints PASS/FAIL lines.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTTAR=${1:-$ROOT/out/resq-image.tar}
TAG=${TAG:-latest}
ARCH=${GOARCH:-amd64}
CRANE_VERSION=v0.22.1
WORK=$(mktemp -d /tmp/resq-oci.XXXXXX)
say() { echo "oci-image: $*" >&2; }
die() { say "$*"; exit 2; }
fails=0
check() {
	local name=$1
	shift
	if "$@"; then echo "PASS $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
regpid=
cleanup() {
	[ -n "$regpid" ] && kill "$regpid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
command -v python3 >/dev/null || die "python3 is required"

if [ -z "${CRANE:-}" ]; then
	GOBIN=$WORK/bin GOFLAGS= go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" ||
		die "cannot build crane $CRANE_VERSION"
	CRANE=$WORK/bin/crane
fi
(cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH=$ARCH go build -trimpath -buildvcs=auto -o "$WORK/rootfs/resq" ./cmd/resq) || die "build failed"

# The layer, byte for byte the same for the same binary: root-owned entries, mtime 0.
python3 - "$WORK/rootfs/resq" "$WORK/layer.tar" <<'PY' || die "cannot write the layer"
import io, os, sys, tarfile
binary, out = sys.argv[1], sys.argv[2]
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
def entry(name, mode, typ=tarfile.REGTYPE, data=b""):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname, ti.type = mode, 0, 0, 0, "root", "root", typ
    ti.size = len(data) if typ == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
for d in ("cache", "etc", "etc/ssl", "etc/ssl/certs"):
    entry(d, 0o755, tarfile.DIRTYPE)
entry("tmp", 0o1777, tarfile.DIRTYPE)
ca = "/etc/ssl/certs/ca-certificates.crt"
if os.path.exists(ca):
    entry(ca.lstrip("/"), 0o644, data=open(ca, "rb").read())
entry("resq", 0o755, data=open(binary, "rb").read())
t.close()
PY

# crane appends to a registry image; a private one on 127.0.0.1 holds it briefly.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CRANE" registry serve --address "127.0.0.1:$port" >"$WORK/registry.log" 2>&1 &
regpid=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
REF=127.0.0.1:$port/resq:build
"$CRANE" append --oci-empty-base --platform "linux/$ARCH" -f "$WORK/layer.tar" -t "$REF" >"$WORK/append.log" 2>&1 ||
	die "crane append failed: $(tail -3 "$WORK/append.log")"
mkdir -p "$(dirname "$OUTTAR")"
"$CRANE" mutate "$REF" --entrypoint /resq --env RESQ_CACHE=/cache --workdir / --set-platform "linux/$ARCH" \
	-t "resq:$TAG" -o "$OUTTAR" >"$WORK/mutate.log" 2>&1 || die "crane mutate failed: $(tail -3 "$WORK/mutate.log")"
kill "$regpid" 2>/dev/null
regpid=
say "wrote $OUTTAR ($(du -h "$OUTTAR" | cut -f1)), tag resq:$TAG"

# --- checks ----------------------------------------------------------------
check "crane validate --tarball" "$CRANE" validate --tarball "$OUTTAR"
mkdir -p "$WORK/x"
python3 - "$OUTTAR" "$WORK/x" "$TAG" "$ARCH" <<'PY'
import json, sys, tarfile
tar, dst, tag, arch = sys.argv[1:]
t = tarfile.open(tar)
m = json.load(t.extractfile("manifest.json"))
ok = True
def expect(what, got, want):
    global ok
    good = got == want
    ok = ok and good
    print("  %s: %s%s" % (what, got, "" if good else " (want %s)" % (want,)))
expect("images", len(m), 1)
expect("tags", m[0]["RepoTags"], ["resq:" + tag])
expect("layers", len(m[0]["Layers"]), 1)
cfg = json.load(t.extractfile(m[0]["Config"]))
c = cfg.get("config", {})
expect("entrypoint", c.get("Entrypoint"), ["/resq"])
expect("platform", "%s/%s" % (cfg.get("os"), cfg.get("architecture")), "linux/" + arch)
expect("RESQ_CACHE", [e for e in c.get("Env", []) if e.startswith("RESQ_CACHE=")], ["RESQ_CACHE=/cache"])
layer = tarfile.open(fileobj=t.extractfile(m[0]["Layers"][0]), mode="r:gz")
names = sorted(layer.getnames())
expect("files", [n for n in names if not n.startswith("etc")], ["cache", "resq", "tmp"])
layer.extractall(dst, filter="fully_trusted")
sys.exit(0 if ok else 1)
PY
check "config: entrypoint /resq, linux/$ARCH, one layer on an empty base" test $? = 0
if [ "$ARCH" = "$(go env GOHOSTARCH)" ]; then
	if [ "$(id -u)" = 0 ] && CHROOT=$(command -v chroot); then
		run() { env -i RESQ_CACHE=/cache "$CHROOT" "$WORK/x" /resq "$@"; }
		where="in a chroot of the layer"
	else
		run() { env -i RESQ_CACHE="$WORK/x/cache" "$WORK/x/resq" "$@"; }
		where="extracted from the layer"
	fi
	run version >"$WORK/version.out" 2>&1
	check "/resq version runs $where" test $? = 0
	sed 's/^/  /' "$WORK/version.out"
	run data list >"$WORK/list.out" 2>&1
	check "/resq data list runs with the image's RESQ_CACHE" test $? = 0
	sed 's/^/  /' "$WORK/list.out"
fi
[ $fails -eq 0 ] || { say "$fails check(s) failed"; exit 1; }
