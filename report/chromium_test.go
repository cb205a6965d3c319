package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// checkScript is appended to a copy of report.html (never to the report
// itself): after the load event it records how many images decoded and
// logs it to the console, which Chromium copies to stderr.
const checkScript = `<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0, bad = [];
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } else { bad.push(imgs[i].alt); }
  }
  var d = document.createElement('pre');
  d.id = 'resq-check';
  d.textContent = 'images ' + ok + '/' + imgs.length + ' bad [' + bad.join('; ') + ']';
  document.body.appendChild(d);
  console.log('resq-check ' + d.textContent);
});
</script>
`

// chromiumArgs are the flags for a quiet, offline, throw-away headless run.
func chromiumArgs(t *testing.T) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000"}
}

func findChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the headless Chromium check in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not found; install it to check report.html renders: apt-get update && apt-get install -y chromium")
	return ""
}

func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	// A generous bound on a hung browser, not a performance limit.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(chromiumArgs(t), args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, e.Bytes())
	}
	return o.Bytes(), e.Bytes()
}

func TestHTMLRendersInChromium(t *testing.T) {
	bin := findChromium(t)
	dir := t.TempDir()
	s, err := Write(dir, synthRecords(11), Options{Title: "chromium check"})
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(s.HTML)
	if err != nil {
		t.Fatal(err)
	}
	checkTagBalance(t, html)
	i := bytes.LastIndex(html, []byte("</body>"))
	if i < 0 {
		t.Fatal("report.html has no </body>")
	}
	page := filepath.Join(dir, "check.html")
	probe := append(append(append([]byte{}, html[:i]...), checkScript...), html[i:]...)
	if err := os.WriteFile(page, probe, 0o644); err != nil {
		t.Fatal(err)
	}
	dom, logs := runChromium(t, bin, "--dump-dom", "file://"+page)
	m := regexp.MustCompile(`images (\d+)/(\d+) bad \[([^\]]*)\]`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the check script did not run; DOM tail:\n%s\nstderr:\n%s", tail(dom, 500), logs)
	}
	if string(m[1]) != string(m[2]) || string(m[2]) != "4" {
		t.Errorf("images loaded %s of %s (want 4 of 4); not loaded: %s", m[1], m[2], m[3])
	}
	if !bytes.Contains(logs, []byte("resq-check")) {
		t.Logf("console messages are not on stderr with this chromium; relying on the DOM check only")
	}
	for _, line := range strings.Split(string(logs), "\n") {
		if strings.Contains(line, "Uncaught") || strings.Contains(line, "ERROR:CONSOLE") ||
			(strings.Contains(line, "CONSOLE") && strings.Contains(line, "rror")) ||
			strings.Contains(line, "Not allowed to load") || strings.Contains(line, "net::ERR_") {
			t.Errorf("chromium reported: %s", line)
		}
	}

	// A screenshot of the real report (no check script) must be a PNG of
	// the window size that is not blank.
	shot := filepath.Join(dir, "screenshot.png")
	runChromium(t, bin, "--window-size=1200,2400", "--screenshot="+shot, "file://"+s.HTML)
	if out := os.Getenv("RESQ_REPORT_SCREENSHOT"); out != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(out, b, 0o644)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v, want 1200x2400", b)
	}
	if distinctColors(img, 64) < 8 {
		t.Errorf("screenshot looks blank")
	}
}

// distinctColors counts distinct colours up to limit, sampling a grid.
func distinctColors(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// checkTagBalance checks every container element report.html uses is
// closed as often as it is opened.
func checkTagBalance(t *testing.T, html []byte) {
	t.Helper()
	for _, tag := range []string{"html", "head", "body", "section", "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "ul", "li", "p", "h1", "h2", "caption", "style", "title"} {
		open := regexp.MustCompile(`<`+tag+`[\s>]`).FindAll(html, -1)
		closed := bytes.Count(html, []byte("</"+tag+">"))
		if len(open) != closed {
			t.Errorf("report.html: <%s> opened %d times, closed %d", tag, len(open), closed)
		}
	}
	if !bytes.HasPrefix(html, []byte("<!DOCTYPE html>")) {
		t.Errorf("report.html does not start with <!DOCTYPE html>")
	}
}
