package nn

// SigmoidSlice sets y[i] = sigmoid(x[i]) with the float32 approximation
// LSTM and GRU compute their gates with (rnnmath.go); in place allowed.
// Engines that run a recurrence outside nn call it to activate the gates
// exactly as nn does.
func SigmoidSlice(y, x []float32) { sigmoidSlice(y, x) }

// TanhSlice sets y[i] = tanh(x[i]) with LSTM's and GRU's float32
// approximation; in place allowed.
func TanhSlice(y, x []float32) { tanhSlice(y, x) }
