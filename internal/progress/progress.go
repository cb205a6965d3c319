package progress

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar is a progress bar that draws only on terminals.
type Bar struct {
	pb      *progressbar.ProgressBar // nil when w is not a terminal
	w       io.Writer                // where the bar draws
	unknown bool                     // total was unknown: a spinner
	done    bool
}

// IsTerminal reports whether w is a terminal: it must expose its file
// descriptor through an Fd() uintptr method (as *os.File does).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// New returns a bar counting to total items (steps, batches, records),
// labelled desc. total <= 0 means unknown: a spinner with a count and rate.
// When w is not a terminal the bar draws nothing.
func New(w io.Writer, total int64, desc string) *Bar {
	return newBar(w, total, desc, false)
}

// NewBytes is New for byte counts: sizes and rates print as KB, MB, MB/s.
func NewBytes(w io.Writer, total int64, desc string) *Bar {
	return newBar(w, total, desc, true)
}

func newBar(w io.Writer, total int64, desc string, bytes bool) *Bar {
	if !IsTerminal(w) {
		return &Bar{}
	}
	if total <= 0 {
		total = -1
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100 * time.Millisecond),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowIts())
	}
	return &Bar{pb: progressbar.NewOptions64(total, opts...), w: w, unknown: total < 0}
}

// Add advances the bar by n.
func (b *Bar) Add(n int) {
	if b == nil || b.pb == nil {
		return
	}
	b.pb.Add64(int64(n))
}

// Write advances the bar by len(p), so a Bar can sit in an io.MultiWriter
// or io.TeeReader while copying. It never fails.
func (b *Bar) Write(p []byte) (int, error) {
	b.Add(len(p))
	return len(p), nil
}

// Describe changes the label.
func (b *Bar) Describe(s string) {
	if b == nil || b.pb == nil {
		return
	}
	b.pb.Describe(s)
}

// Finish completes the bar and ends its line, so that what is written next
// starts on a line of its own. Reaching the total does not end the line
// (a label changed after the last step redraws the same line); Finish
// does, once: calling it twice is harmless.
func (b *Bar) Finish() {
	if b == nil || b.pb == nil || b.done {
		return
	}
	b.done = true
	if b.unknown {
		b.pb.Exit() // a spinner has no end to fill to; Exit ends the line
		return
	}
	if !b.pb.IsFinished() {
		b.pb.Finish()
	}
	io.WriteString(b.w, "\n")
}

// Active reports whether the bar draws (its writer is a terminal).
func (b *Bar) Active() bool { return b != nil && b.pb != nil }
