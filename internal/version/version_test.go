package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		settings []debug.BuildSetting
		exe      string
		want     string
		source   string
	}{
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}, "", "1.2.3+0123456789ab", "VCS revision " + rev},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}, "", "1.2.3+0123456789ab.dirty", "uncommitted changes"},
		{[]debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, "fedcba9876543210ff", "1.2.3+exe.fedcba987654", "no VCS information"},
		{nil, "", "1.2.3+unknown", "could not be read"},
	} {
		b := fromSettings(tc.settings)
		if b.Revision == "" {
			b.ExeHash = tc.exe
		}
		if got := stringOf("1.2.3", b); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.settings, got, tc.want)
		}
		if got := b.Source(); !strings.Contains(got, tc.source) {
			t.Errorf("%v: Source %q, want it to say %q", tc.settings, got, tc.source)
		}
	}
}

// TestCurrentUnderGoTest: go test stamps no VCS information, so the test
// binary is named by its hash.
func TestCurrentUnderGoTest(t *testing.T) {
	b := Current()
	if b.Revision != "" {
		t.Skipf("this test binary carries VCS revision %s", b.Revision)
	}
	if len(b.ExeHash) != 64 || !strings.HasPrefix(String(), Version+"+exe."+b.ExeHash[:12]) {
		t.Errorf("String() = %q, ExeHash %q", String(), b.ExeHash)
	}
}
