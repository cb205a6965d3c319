//go:build !amd64 || purego

package tensor

// Without assembly every element-wise kernel runs its pure-Go loop: the
// *Arch hooks do nothing and report 0 elements done.

var useAVX2 = false

func reluArch(y, x []float32) int                               { return 0 }
func reluBackwardArch(dx, dy, y []float32) int                  { return 0 }
func mulArch(z, x, y []float32) int                             { return 0 }
func addArch(y, x []float32) int                                { return 0 }
func sgdMomentumArch(w, v, g []float32, lr, mu, wd float32) int { return 0 }

func maxPool2x2RowArch(y []float32, arg []int32, row0, row1 []float32, idx0, w int) bool {
	return false
}

func dropoutArch(y, m, x []float32, bits []uint64, thresh uint32, scale float32) int { return 0 }
