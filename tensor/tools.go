//go:build tools

package tensor

// Keeps the asm_gen.go generator's dependency (avo) in go.mod under
// `go mod tidy`; this file is never compiled.
import _ "github.com/mmcloughlin/avo/build"
