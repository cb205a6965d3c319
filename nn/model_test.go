package nn

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

func kinds(m *Model) string {
	var ks []string
	for _, l := range m.Layers {
		ks = append(ks, l.Kind())
	}
	return strings.Join(ks, " ")
}

func TestBuild(t *testing.T) {
	cases := []struct {
		spec            string
		in              []int
		kinds           string
		weights, params int64
		classes         int
	}{
		{"mlp:784-1024x3-10", []int{784}, "dense relu dense relu dense relu dense",
			784*1024 + 2*1024*1024 + 1024*10, 784*1024 + 2*1024*1024 + 1024*10 + 3*1024 + 10, 10},
		{"mlp:784-512-256-10,act=tanh,drop=0.2,dropin=0.1", []int{1, 28, 28}, "dropout dense tanh dropout dense tanh dropout dense",
			784*512 + 512*256 + 2560, 784*512 + 512*256 + 2560 + 512 + 256 + 10, 10},
		{"mlp:5-3", nil, "dense", 15, 18, 3},
		{"cnn:32c5-p2-64c5-p2-fc512-10", []int{1, 28, 28}, "conv relu maxpool conv relu maxpool flatten dense relu dense",
			800 + 51200 + 64*7*7*512 + 5120, 800 + 51200 + 64*7*7*512 + 5120 + 32 + 64 + 512 + 10, 10},
		{"cnn:32c5-p2-64c5-p2-fc512-10,x0.5", []int{1, 28, 28}, "conv relu maxpool conv relu maxpool flatten dense relu dense",
			400 + 16*32*25 + 32*7*7*512 + 5120, 400 + 16*32*25 + 32*7*7*512 + 5120 + 16 + 32 + 512 + 10, 10},
		{"cnn:4c3-bn-p2-8c3s2-fc6-3,drop=0.5", []int{3, 9, 9}, "conv batchnorm relu maxpool conv relu flatten dropout dense relu dropout dense",
			4*27 + 8*36 + 8*2*2*6 + 18, 4*27 + 8*36 + 8*2*2*6 + 18 + 4 + 8 + 4 + 4 + 6 + 3, 3},
		{"cnn:2c3-3c1-4,bn,act=sigmoid,x0.01", []int{1, 4, 4}, "conv batchnorm sigmoid conv batchnorm sigmoid flatten dense",
			9 + 1 + 16*4, 9 + 1 + 16*4 + 1 + 1 + 2 + 2 + 4, 4},
		{"cnn:10", []int{2, 3, 3}, "flatten dense", 180, 190, 10},
	}
	for _, c := range cases {
		m, err := Build(c.spec, c.in, 1)
		if err != nil {
			t.Errorf("Build(%q, %v): %v", c.spec, c.in, err)
			continue
		}
		if got := kinds(m); got != c.kinds {
			t.Errorf("%s: layers %q, want %q", c.spec, got, c.kinds)
		}
		w, p := m.Count()
		if w != c.weights || p != c.params {
			t.Errorf("%s: Count() = %d, %d, want %d, %d", c.spec, w, p, c.weights, c.params)
		}
		if m.Classes != c.classes {
			t.Errorf("%s: Classes = %d, want %d", c.spec, m.Classes, c.classes)
		}
		// Forward runs and gives [batch, classes].
		d := tensor.Numel(m.In)
		x := randTensor(rand.New(rand.NewPCG(1, 2)), 3, d)
		if y := m.Forward(x, true); !reflect.DeepEqual(y.Shape, []int{3, c.classes}) {
			t.Errorf("%s: logits %v", c.spec, y.Shape)
		}
		names := map[string]bool{}
		for _, p := range m.Params() {
			if names[p.Name] {
				t.Errorf("%s: duplicate param name %q", c.spec, p.Name)
			}
			names[p.Name] = true
		}
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		spec string
		in   []int
		want string
	}{
		{"mlp:784-1024x-10", nil, `nn: model spec "mlp:784-1024x-10": bad layer "1024x" (want WIDTH or WIDTHxCOUNT)`},
		{"mlp:784-1024x3-10", []int{3072}, "nn: model expects 784 inputs, dataset has 3072"},
		{"mlp:784-0-10", nil, `bad layer "0"`},
		{"mlp:784", nil, "want IN-[HIDDEN-...]-CLASSES"},
		{"mlp:abc-10", nil, `bad input width "abc"`},
		{"mlp:784-100-1", nil, "need at least 2 classes"},
		{"mlp:784-100-10,drop=1", nil, `bad option "drop=1"`},
		{"mlp:784-100-10,act=gelu", nil, `bad option "act=gelu"`},
		{"mlp:784-100-10,bn", nil, `option "bn" applies to cnn specs only`},
		{"mlp:784-100-10,x2", nil, `applies to cnn specs only`},
		{"mlp:784-100-10,", nil, `bad option ""`},
		{"rnn:784-10", nil, "want mlp:..., cnn:..., lstm:... or gru:..."},
		{"cnn:32c5-p2-10", []int{784}, "needs a [C H W] input shape, dataset has [784]"},
		{"cnn:32x5-p2-10", []int{1, 28, 28}, `bad layer "32x5"`},
		{"cnn:32c-p2-10", []int{1, 28, 28}, `bad layer "32c"`},
		{"cnn:32c5s0-10", []int{1, 28, 28}, `bad layer "32c5s0"`},
		{"cnn:bn-32c5-10", []int{1, 28, 28}, `bad layer "bn" (bn must follow a conv layer)`},
		{"cnn:32c5-fc10-p2-10", []int{1, 28, 28}, `bad layer "p2" (conv, pool and bn must come before fc layers)`},
		{"cnn:32c5-p2-fc-10", []int{1, 28, 28}, `bad layer "fc"`},
		{"cnn:32c5-p2-10,x0", []int{1, 28, 28}, `bad option "x0"`},
		{"cnn:32c5-p2-10,dropin=0.1", []int{1, 28, 28}, `option "dropin" applies to mlp specs only`},
		{"cnn:32c5-p4-p4-p4-10", []int{1, 28, 28}, `layer "p4s4" does not fit its 1x1 input`},
		{"cnn:8c9-10", []int{1, 3, 3}, ""},
		{"cnn:8c4-10", []int{1, 1, 1}, `layer "8c4s1" does not fit its 1x1 input`},
		{"mlp:784-10", []int{0}, "bad input shape [0]"},
	}
	for _, c := range cases {
		_, err := Build(c.spec, c.in, 1)
		if c.want == "" {
			if err != nil {
				t.Errorf("Build(%q, %v): %v", c.spec, c.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%q, %v) error %v, want %q", c.spec, c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("Build(%q): multi-line error %q", c.spec, err)
		}
	}
}

func TestBuildDeterministic(t *testing.T) {
	for _, spec := range []string{"mlp:20-16x2-4,drop=0.3", "cnn:4c3-p2-fc8-3,bn,drop=0.2"} {
		in := []int{20}
		if strings.HasPrefix(spec, "cnn") {
			in = []int{2, 6, 6}
		}
		a, _ := Build(spec, in, 42)
		b, _ := Build(spec, in, 42)
		c, _ := Build(spec, in, 43)
		for i, p := range a.Params() {
			if !reflect.DeepEqual(p.W.Data, b.Params()[i].W.Data) {
				t.Errorf("%s: param %s differs between builds with the same seed", spec, p.Name)
			}
		}
		if reflect.DeepEqual(a.Params()[0].W.Data, c.Params()[0].W.Data) {
			t.Errorf("%s: seeds 42 and 43 give the same weights", spec)
		}
		x := randTensor(rand.New(rand.NewPCG(9, 9)), 5, tensor.Numel(in))
		ya := append([]float32(nil), a.Forward(x, true).Data...)
		yb := b.Forward(x, true).Data
		if !reflect.DeepEqual(ya, yb) {
			t.Errorf("%s: training forward (dropout) not deterministic in seed", spec)
		}
	}
}

func TestInit(t *testing.T) {
	std := func(v []float32) float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s / float64(len(v)))
	}
	maxAbs := func(v []float32) float64 {
		var m float64
		for _, x := range v {
			m = math.Max(m, math.Abs(float64(x)))
		}
		return m
	}
	// Per param of mlp:400-300-200-10 (params 0/1, 2/3, 4/5): the wanted
	// weight std and, for the bias, its bound (0: all zero).
	for _, tc := range []struct {
		spec   string
		wstd   []float64
		bbound []float64
	}{
		// He normal: std sqrt(2/fan_in); output layer Glorot uniform, std sqrt(2/(in+out)).
		{"mlp:400-300-200-10,init=he", []float64{math.Sqrt(2.0 / 400), math.Sqrt(2.0 / 300), math.Sqrt(2.0 / 210)}, []float64{0, 0, 0}},
		// Glorot uniform after tanh.
		{"mlp:400-300-200-10,act=tanh,init=he", []float64{math.Sqrt(2.0 / 700), math.Sqrt(2.0 / 500), math.Sqrt(2.0 / 210)}, []float64{0, 0, 0}},
		// PyTorch's default: U(±1/sqrt(fan_in)), std 1/sqrt(3 fan_in), biases too.
		{"mlp:400-300-200-10", []float64{1 / math.Sqrt(1200), 1 / math.Sqrt(900), 1 / math.Sqrt(600)}, []float64{1 / math.Sqrt(400), 1 / math.Sqrt(300), 1 / math.Sqrt(200)}},
		{"mlp:400-300-200-10,act=tanh,init=uniform", []float64{1 / math.Sqrt(1200), 1 / math.Sqrt(900), 1 / math.Sqrt(600)}, []float64{1 / math.Sqrt(400), 1 / math.Sqrt(300), 1 / math.Sqrt(200)}},
	} {
		m, err := Build(tc.spec, nil, 5)
		if err != nil {
			t.Fatal(err)
		}
		ps := m.Params()
		for i, want := range tc.wstd {
			w := ps[2*i].W.Data
			if got := std(w); math.Abs(got-want) > 0.05*want {
				t.Errorf("%s: %s: weight std %.4g, want %.4g", tc.spec, ps[2*i].Name, got, want)
			}
			b := ps[2*i+1].W.Data
			bound := tc.bbound[i]
			switch got := maxAbs(b); {
			case bound == 0 && got != 0:
				t.Errorf("%s: %s: bias not zero", tc.spec, ps[2*i+1].Name)
			case bound > 0 && (got > bound || got < 0.5*bound):
				t.Errorf("%s: %s: bias max |b| %.4g, want in [%.4g, %.4g]", tc.spec, ps[2*i+1].Name, got, 0.5*bound, bound)
			}
		}
	}
	if _, err := Build("mlp:784-10,init=glorot", nil, 1); err == nil || !strings.Contains(err.Error(), "init=") {
		t.Errorf("init=glorot: error %v, want one naming the option", err)
	}
}

// TestModelGrad checks Model.Backward end to end: d(loss)/d(param) against
// central differences for every param of a small MLP and a small CNN with
// BatchNorm (tanh activations: no kinks). Step 1e-3 on the float32 forward
// with a float64 loss: rounding noise ~1e-4, so the bound is
// 1e-3 + 1e-2·|numeric|.
func TestModelGrad(t *testing.T) {
	for _, c := range []struct {
		spec string
		in   []int
	}{
		{"mlp:7-5x2-3,act=tanh", nil},
		{"cnn:3c3-bn-p2-4c3s2-fc5-3,act=tanh", []int{2, 7, 6}},
	} {
		rng := rand.New(rand.NewPCG(11, 12))
		m, err := Build(c.spec, c.in, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			for i := range p.W.Data {
				p.W.Data[i] += float32(0.1 * rng.NormFloat64()) // non-zero biases too
			}
		}
		x := randTensor(rng, 4, tensor.Numel(m.In))
		labels := []int32{0, 2, 1, 2}
		loss := func() float64 { return m.Loss.Forward(m.Forward(x, true), labels) }
		loss()
		m.Backward(m.Loss.Backward())
		const h = 1e-3
		for _, p := range m.Params() {
			g := append([]float32(nil), p.G.Data...)
			for i := range p.W.Data {
				old := p.W.Data[i]
				p.W.Data[i] = old + h
				lp := loss()
				p.W.Data[i] = old - h
				lm := loss()
				p.W.Data[i] = old
				num := (lp - lm) / (2 * h)
				if math.Abs(num-float64(g[i])) > 1e-3+1e-2*math.Abs(num) {
					t.Errorf("%s: d/d%s[%d]: analytic %.6g, numeric %.6g", c.spec, p.Name, i, g[i], num)
				}
			}
		}
	}
}

// TestTrainSmoke trains a small MLP with plain SGD on a synthetic,
// linearly separable 3-class problem; it must fit the training set.
func TestTrainSmoke(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const n, d = 150, 8
	x := tensor.New(n, d)
	labels := make([]int32, n)
	for i := range labels {
		c := i % 3
		labels[i] = int32(c)
		for j := 0; j < d; j++ {
			x.Data[i*d+j] = float32(0.3 * rng.NormFloat64())
		}
		x.Data[i*d+c] += 2
	}
	m, err := Build("mlp:8-16-3", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	first := m.Loss.Forward(m.Forward(x, true), labels)
	var last float64
	for step := 0; step < 200; step++ {
		last = m.Loss.Forward(m.Forward(x, true), labels)
		m.Backward(m.Loss.Backward())
		for _, p := range m.Params() {
			tensor.Axpy(p.W.Data, -0.5, p.G.Data)
		}
	}
	pred := make([]int32, n)
	m.Predict(pred, x)
	wrong := 0
	for i := range pred {
		if pred[i] != labels[i] {
			wrong++
		}
	}
	if !(last < first/5) || wrong > 3 {
		t.Errorf("loss %.4f -> %.4f, %d/%d wrong after training", first, last, wrong, n)
	}
}

func TestPredictMatchesForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	m, _ := Build("cnn:3c3-p2-4,bn,drop=0.5", []int{1, 6, 6}, 1)
	x := randTensor(rng, 7, 36)
	pred := make([]int32, 7)
	m.Predict(pred, x)
	y := m.Forward(x, false)
	for i := range pred {
		if want := int32(tensor.Argmax(y.Data[i*4 : i*4+4])); pred[i] != want {
			t.Errorf("row %d: Predict %d, argmax %d", i, pred[i], want)
		}
	}
}

func TestDropout(t *testing.T) {
	d := NewDropout(0.25, 1, 2)
	x := tensor.New(50, 41) // odd size: tail of the 4-per-draw loop
	tensor.Fill(x.Data, 1)
	if y := d.Forward(x, false); y != x {
		t.Fatal("eval Forward is not the identity")
	}
	y := d.Forward(x, true)
	y0 := append([]float32(nil), y.Data...)
	zeros := 0
	for _, v := range y.Data {
		switch v {
		case 0:
			zeros++
		case 1 / 0.75:
		default:
			t.Fatalf("dropout output %v, want 0 or %v", v, 1/0.75)
		}
	}
	// 2050 Bernoulli(0.25) draws: mean 512.5, sd ~19.6; 5 sd bound.
	if zeros < 415 || zeros > 610 {
		t.Errorf("%d of %d dropped, want about 25%%", zeros, len(y.Data))
	}
	dy := randTensor(rand.New(rand.NewPCG(3, 3)), 50, 41)
	dx := d.Backward(dy)
	for i := range dx.Data {
		if dx.Data[i] != dy.Data[i]*y.Data[i] {
			t.Fatalf("dx[%d] = %v, want dy*mask = %v", i, dx.Data[i], dy.Data[i]*y.Data[i])
		}
	}
	y1 := append([]float32(nil), d.Forward(x, true).Data...)
	if reflect.DeepEqual(y1, y0) {
		t.Error("two training steps drew the same mask")
	}
}

func TestBatchNormRunningStats(t *testing.T) {
	b := NewBatchNorm(2)
	b.Momentum = 1
	x := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2, 1) // channel 0: 1 2 5 6, channel 1: 3 4 7 8
	b.Forward(x, true)
	if b.RunMean.Data[0] != 3.5 || b.RunMean.Data[1] != 5.5 {
		t.Errorf("running mean %v, want [3.5 5.5]", b.RunMean.Data)
	}
	if v := b.RunVar.Data[0]; math.Abs(float64(v)-17.0/3) > 1e-5 { // unbiased: (6.25+2.25+2.25+6.25)/3
		t.Errorf("running var %v, want 17/3", v)
	}
	y := b.Forward(x, false)
	want := float32((1 - 3.5) / math.Sqrt(17.0/3+1e-5))
	if math.Abs(float64(y.Data[0]-want)) > 1e-5 {
		t.Errorf("eval y[0] = %v, want %v", y.Data[0], want)
	}
}

func TestShapePanics(t *testing.T) {
	m, _ := Build("mlp:784-1024-10", nil, 1)
	d := m.Layers[0].(*Dense)
	cases := []struct {
		f    func()
		want string
	}{
		{func() { d.Forward(tensor.New(100, 785), true) }, "nn: dense 0: input [100 785] does not match weights [1024 784]"},
		{func() { m.Forward(tensor.New(2, 783), true) }, "nn: model: input [2 783] does not match [batch 784]"},
		{func() { NewConv2D(3, 4, 3, 3, 1, 1).Forward(tensor.New(2, 2, 5, 5), true) }, "nn: conv 0: input [2 2 5 5] does not match weights [4 3 3 3]"},
		{func() {
			r := &ReLU{}
			r.Forward(tensor.New(2, 3), true)
			r.Backward(tensor.New(3, 2))
		}, "nn: relu 0: gradient [3 2] does not match output [2 3]"},
	}
	for _, c := range cases {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, c.want) {
					t.Errorf("panic %v, want %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
}

// TestNoAllocs checks that a steady-state training step of an MLP with
// dropout allocates nothing in package nn (Gemm is package tensor's).
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	m, _ := Build("mlp:33-17x2-5,drop=0.2,dropin=0.1", nil, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	x := randTensor(rng, 9, 33)
	labels := []int32{0, 1, 2, 3, 4, 0, 1, 2, 3}
	step := func() {
		m.Loss.Forward(m.Forward(x, true), labels)
		m.Backward(m.Loss.Backward())
	}
	step()
	if a := testing.AllocsPerRun(5, step); a != 0 {
		t.Errorf("training step allocates %v times", a)
	}
}

// TestEvalThenTrain guards against a layer that returns its input at
// evaluation (Dropout) and later writing into it.
func TestEvalThenTrain(t *testing.T) {
	m, _ := Build("mlp:6-5-3,drop=0.5,dropin=0.5", nil, 1)
	x := randTensor(rand.New(rand.NewPCG(1, 1)), 4, 6)
	x0 := append([]float32(nil), x.Data...)
	m.Forward(x, false)
	m.Forward(x, true)
	if !reflect.DeepEqual(x.Data, x0) {
		t.Fatal("training Forward after an evaluation Forward overwrote the input")
	}
}

// TestNoAllocsCNN: the same for a CNN with BatchNorm and dropout, with the
// tensor kernels on one thread (their goroutine fan-out is theirs).
func TestNoAllocsCNN(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	defer tensor.SetThreads(tensor.SetThreads(1))
	m, _ := Build("cnn:3c3-bn-p2-4c3s2-fc6-3,drop=0.3", []int{2, 9, 9}, 1)
	x := randTensor(rand.New(rand.NewPCG(1, 1)), 5, 162)
	labels := []int32{0, 1, 2, 0, 1}
	step := func() {
		m.Loss.Forward(m.Forward(x, true), labels)
		m.Backward(m.Loss.Backward())
	}
	step()
	if a := testing.AllocsPerRun(5, step); a != 0 {
		t.Errorf("training step allocates %v times", a)
	}
}

// TestReseedDropout: after ReseedDropout(s) the masks are those of a model
// built with seed s, whatever seed the model was built with.
func TestReseedDropout(t *testing.T) {
	const spec = "mlp:20-16x2-3,drop=0.5"
	x := randTensor(rand.New(rand.NewPCG(3, 4)), 7, 20)
	a, _ := Build(spec, nil, 0)
	b, _ := Build(spec, nil, 11)
	copyParams(b, a) // same weights: only the masks can differ
	a.ReseedDropout(11)
	for step := range 3 {
		ya := append([]float32(nil), a.Forward(x, true).Data...)
		if yb := b.Forward(x, true).Data; !reflect.DeepEqual(ya, yb) {
			t.Fatalf("step %d: reseeded model's training output differs from the model built with the seed", step)
		}
	}
	c, _ := Build(spec, nil, 0)
	d, _ := Build(spec, nil, 0)
	d.ReseedDropout(11)
	yc := append([]float32(nil), c.Forward(x, true).Data...)
	if reflect.DeepEqual(yc, d.Forward(x, true).Data) {
		t.Error("ReseedDropout(11) left the masks of seed 0")
	}
}

func copyParams(from, to *Model) {
	for i, p := range from.Params() {
		copy(to.Params()[i].W.Data, p.W.Data)
	}
}

// TestFreeze checks that a frozen model predicts bitwise as before, that a
// training Forward still sees weight updates and that Thaw makes inference
// see them too.
func TestFreeze(t *testing.T) {
	for _, spec := range []string{"mlp:17-33x2-5", "mlp:3-1-2", "cnn:4c3-p2-fc9-3"} {
		in := []int{17}
		if spec == "mlp:3-1-2" {
			in = []int{3}
		}
		if spec[:3] == "cnn" {
			in = []int{1, 8, 8}
		}
		m, err := Build(spec, in, 3)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(8, 8))
		const batch = 7
		d := tensor.Numel(m.In)
		x := tensor.New(batch, d)
		for i := range x.Data {
			x.Data[i] = rng.Float32()*2 - 1
		}
		want := append([]float32(nil), m.Forward(x, false).Data...)
		x1 := &tensor.Tensor{Shape: []int{1, d}, Data: x.Data[:d]} // one row: Gemm's one-row path
		want1 := append([]float32(nil), m.Forward(x1, false).Data...)
		m.Freeze(batch)
		got := m.Forward(x, false).Data
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s frozen: logit %d = %g, want %g (bitwise)", spec, i, got[i], want[i])
			}
		}
		for i, v := range m.Forward(x1, false).Data {
			if v != want1[i] {
				t.Fatalf("%s frozen, one row: logit %d = %g, want %g (bitwise)", spec, i, v, want1[i])
			}
		}
		for _, l := range m.Layers {
			if dl, ok := l.(*Dense); ok {
				for i := range dl.W.W.Data {
					dl.W.W.Data[i] *= -1
				}
			}
		}
		live := append([]float32(nil), m.Forward(x, true).Data...)
		if stale := m.Forward(x, false).Data; equalFloats(stale, live) {
			t.Fatalf("%s: frozen inference saw a weight update made after Freeze", spec)
		}
		m.Thaw()
		if thawed := m.Forward(x, false).Data; !equalFloats(thawed, live) {
			t.Fatalf("%s: after Thaw inference does not see the updated weights", spec)
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
