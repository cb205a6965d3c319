package main

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"
)

// TestHelpGoesToStdout: every command's -h prints its flags on the writer
// run was given, exits 0 and writes nothing on stderr.
func TestHelpGoesToStdout(t *testing.T) {
	groups := map[string][]string{"bench": {"gemm", "infer", "retrain"}, "data": {"fetch", "list"}}
	var lines [][]string
	for n := range commands {
		if subs, ok := groups[n]; ok {
			for _, sub := range subs {
				lines = append(lines, []string{n, sub})
			}
			continue
		}
		lines = append(lines, []string{n})
	}
	sort.Slice(lines, func(i, j int) bool { return strings.Join(lines[i], " ") < strings.Join(lines[j], " ") })
	for _, line := range lines {
		for _, flag := range []string{"-h", "--help"} {
			var stdout, stderr bytes.Buffer
			args := append(append([]string{}, line...), flag)
			code := run(context.Background(), args, &stdout, &stderr)
			if code != 0 || stderr.Len() != 0 {
				t.Errorf("resq %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr.String())
				continue
			}
			if !strings.HasPrefix(stdout.String(), "Usage of resq ") {
				t.Errorf("resq %s: stdout %q, want the flags", strings.Join(args, " "), stdout.String())
			}
		}
	}
}
