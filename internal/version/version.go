// Package version holds resq's version string, stamped into every record,
// checkpoint and packed model.
package version

// Version is resq's semantic version. Release builds may override it with
// -ldflags "-X github.com/resq-dev/resq/internal/version.Version=...".
var Version = "0.1.0-dev"
