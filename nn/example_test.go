package nn_test

import (
	"fmt"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

func ExampleBuild() {
	m, err := nn.Build("mlp:784-1024x3-10,drop=0.2", nil, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, p := m.Count()
	fmt.Println(w, p)
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			fmt.Println(d.W.Name, d.W.W.Shape)
		}
	}
	x := tensor.New(2, 784) // two samples
	logits := m.Forward(x, false)
	fmt.Println(logits.Shape)
	// Output:
	// 2910208 2913290
	// 0.weight [1024 784]
	// 3.weight [1024 1024]
	// 6.weight [1024 1024]
	// 9.weight [10 1024]
	// [2 10]
}

func ExampleBuild_cnn() {
	m, err := nn.Build("cnn:32c5-p2-64c5-p2-fc512-10,x0.5", []int{1, 28, 28}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(m)
	_, err = nn.Build("mlp:784-1024x3-10", []int{3, 32, 32}, 1)
	fmt.Println(err)
	// Output:
	// cnn:32c5-p2-64c5-p2-fc512-10,x0.5  in [1 28 28]  weights 821136  params 821706
	//   0 conv 5x5 stride 1 pad 2 -> [16 28 28]
	//   1 relu -> [16 28 28]
	//   2 maxpool 2x2 stride 2 -> [16 14 14]
	//   3 conv 5x5 stride 1 pad 2 -> [32 14 14]
	//   4 relu -> [32 14 14]
	//   5 maxpool 2x2 stride 2 -> [32 7 7]
	//   6 flatten -> [1568]
	//   7 dense 1568->512 -> [512]
	//   8 relu -> [512]
	//   9 dense 512->10 -> [10]
	// nn: model expects 784 inputs, dataset has 3072
}

func ExampleMLPSpec() {
	for _, w := range []int{32, 256, 1024} {
		fmt.Println(nn.MLPSpec(784, w, 3, 10, "drop=0.2"))
	}
	fmt.Println(nn.MLPSpec(784, 0, 0, 10, ""))
	// Output:
	// mlp:784-32x3-10,drop=0.2
	// mlp:784-256x3-10,drop=0.2
	// mlp:784-1024x3-10,drop=0.2
	// mlp:784-10
}

func ExampleScaleCNN() {
	base := "cnn:32c5-p2-64c5-p2-fc512-10,drop=0.5"
	for _, m := range []float64{0.25, 1, 4} {
		s, _ := nn.ScaleCNN(base, m)
		fmt.Println(s)
	}
	s, _ := nn.ScaleCNN(base+",x0.5", 0.5)
	fmt.Println(s)
	// Output:
	// cnn:32c5-p2-64c5-p2-fc512-10,drop=0.5,x0.25
	// cnn:32c5-p2-64c5-p2-fc512-10,drop=0.5
	// cnn:32c5-p2-64c5-p2-fc512-10,drop=0.5,x4
	// cnn:32c5-p2-64c5-p2-fc512-10,drop=0.5,x0.25
}

func ExampleSpecSize() {
	// Sizing allocates nothing: a checkpoint loader can check an untrusted
	// spec against the file before building it.
	w, p, err := nn.SpecSize("cnn:32c5-p2-64c5-p2-fc512-10,x0.5", []int{1, 28, 28})
	fmt.Println(w, p, err)
	w, p, err = nn.SpecSize("mlp:784-100000-10", nil)
	fmt.Println(w, p, err)
	_, _, err = nn.SpecSize("mlp:784-100000x1000-10", nil)
	fmt.Println(err)
	_, _, err = nn.SpecSize("cnn:8c3-10", []int{1, 100000, 100000})
	fmt.Println(err)
	// Output:
	// 821136 821706 <nil>
	// 79400000 79500010 <nil>
	// nn: model spec "mlp:784-100000x1000-10": 10078600000 parameters or more, more than the limit 1073741824
	// nn: model spec "cnn:8c3-10": the input has 10000000000 values per sample, more than the limit 67108864
}
