//go:build !amd64 || purego

package nn

const useGateAsm = false

// sigmoidSlice sets y[i] = sigmoid(x[i]); in place allowed.
func sigmoidSlice(y, x []float32) { sigmoidGo(y, x) }

// tanhSlice sets y[i] = tanh(x[i]); in place allowed.
func tanhSlice(y, x []float32) { tanhGo(y, x) }
