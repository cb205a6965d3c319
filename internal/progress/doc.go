// Package progress draws a progress bar (count, rate, ETA) on a terminal and
// stays silent everywhere else.
//
// A Bar draws only when its writer is a terminal (an *os.File, or anything
// with an Fd method, whose descriptor is a TTY per golang.org/x/term). On a
// pipe, a log file or a bytes.Buffer every method is a cheap no-op, so
// callers print their own plain log lines (one per epoch, per file) and logs
// stay free of carriage returns and escape codes.
//
// A Bar is a thin wrapper over github.com/schollz/progressbar/v3. It is not
// safe for concurrent use; one goroutine owns it. A nil *Bar is valid and
// does nothing, so optional progress needs no branches at call sites.
package progress
