package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/resq-dev/resq/tensor"
)

var tiny = []GemmShape{{M: 3, N: 5, K: 7, TransB: true, Name: "Tiny"}}

func TestRunGemmJSON(t *testing.T) {
	var buf bytes.Buffer
	rs, err := RunGemm(&buf, GemmOptions{JSON: true, MinTime: time.Microsecond, Rounds: 1, Threads: 1, Peers: []string{"gonum"}, Shapes: tiny})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Peer != "gonum" || rs[0].GFLOPS <= 0 || rs[0].PeerGFLOPS <= 0 || rs[0].Threads != 1 {
		t.Fatalf("results %+v", rs)
	}
	var r map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &r); err != nil {
		t.Fatalf("output %q is not one JSON object: %v", buf.String(), err)
	}
	for _, k := range []string{"m", "n", "k", "transA", "transB", "gflops", "threads", "kernel", "peer", "peer_gflops", "ratio"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON %s lacks %q", buf.String(), k)
		}
	}
}

func TestRunGemmTable(t *testing.T) {
	var buf bytes.Buffer
	if _, err := RunGemm(&buf, GemmOptions{MinTime: time.Microsecond, Rounds: 1, Kernel: "generic", Shapes: tiny}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Tiny") || !strings.Contains(buf.String(), "kernel generic") {
		t.Fatalf("table output:\n%s", buf.String())
	}
}

func TestRunGemmErrors(t *testing.T) {
	_, err := RunGemm(new(bytes.Buffer), GemmOptions{Peers: []string{"nope"}, Shapes: tiny})
	if err == nil || !strings.HasPrefix(err.Error(), "bench: ") {
		t.Fatalf("unknown peer: err = %v", err)
	}
	if _, ok := peers["openblas"]; !ok {
		_, err = RunGemm(new(bytes.Buffer), GemmOptions{Peers: []string{"openblas"}, Shapes: tiny})
		if err == nil || !strings.Contains(err.Error(), "-tags openblas") {
			t.Fatalf("openblas without tag: err = %v", err)
		}
	}
	_, err = RunGemm(new(bytes.Buffer), GemmOptions{Kernel: "nope", Shapes: tiny})
	if err == nil {
		t.Fatal("unknown kernel accepted")
	}
}

// TestPeersAgree checks that every peer computes the same product as
// tensor.Gemm (so the timings compare like with like).
func TestPeersAgree(t *testing.T) {
	s := GemmShape{M: 17, N: 33, K: 29}
	for tr := 0; tr < 4; tr++ {
		s.TransA, s.TransB = tr&1 != 0, tr&2 != 0
		a, lda, b, ldb, want := operands(s, 7)
		tensor.GemmRef(s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, want, s.N)
		for name, f := range peers {
			got := make([]float32, len(want))
			f(1, s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, got, s.N)
			for i := range want {
				if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("%s %+v: element %d = %g, want %g", name, s, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkGemm times tensor.Gemm on TrainingShapes with the default
// kernel (RESQ_GEMM_KERNEL overrides it) on 1 and 2 threads:
// go test -bench Gemm ./bench.
func BenchmarkGemm(b *testing.B) {
	for _, th := range []int{1, 2} {
		for _, s := range TrainingShapes {
			b.Run(fmt.Sprintf("%s/threads%d", s.Name, th), func(b *testing.B) {
				prev := tensor.SetThreads(th)
				defer tensor.SetThreads(prev)
				a, lda, bb, ldb, c := operands(s, 1)
				for b.Loop() {
					tensor.Gemm(s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, bb, ldb, 0, c, s.N)
				}
				b.ReportMetric(s.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmPeer times the peers (gonum; openblas with -tags openblas)
// on the same shapes, so one run gives both sides:
// go test -tags openblas -bench 'Gemm' ./bench.
func BenchmarkGemmPeer(b *testing.B) {
	names := make([]string, 0, len(peers))
	for name := range peers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := peers[name]
		for _, th := range []int{1, 2} {
			for _, s := range TrainingShapes {
				b.Run(fmt.Sprintf("%s/%s/threads%d", name, s.Name, th), func(b *testing.B) {
					a, lda, bb, ldb, c := operands(s, 1)
					for b.Loop() {
						f(th, s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, bb, ldb, 0, c, s.N)
					}
					b.ReportMetric(s.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

func TestRunGemmPeerThreads(t *testing.T) {
	var buf bytes.Buffer
	rs, err := RunGemm(&buf, GemmOptions{MinTime: time.Microsecond, Rounds: 1, Threads: 2, Settle: -1, Peers: []string{"gonum"}, Shapes: tiny})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || (rs[0].PeerThreads != 1 && rs[0].PeerThreads != 2) {
		t.Fatalf("results %+v: want the peer's best of 1 and 2 threads", rs)
	}
	if !strings.Contains(buf.String(), "peer threads") || !strings.Contains(buf.String(), "[1 2] thread(s)") {
		t.Fatalf("table output:\n%s", buf.String())
	}
	if _, err := RunGemm(new(bytes.Buffer), GemmOptions{Threads: 1, PeerThreads: []int{2}, Peers: []string{"gonum"}, Shapes: tiny}); err == nil {
		t.Fatal("peer threads above resq's accepted")
	}
}
