//go:build !arm64 || purego

package kernels

// armAvailable lists no arm64 kernels in this build.
func armAvailable() []string { return nil }
