package data_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/resq-dev/resq/data"
)

// Load a dense data set from four .npy files, carving a validation split.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "npy")
	defer os.RemoveAll(dir)
	save := func(name string, shape []int, v any) string {
		var b bytes.Buffer
		data.WriteNPY(&b, shape, v)
		p := filepath.Join(dir, name)
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	x := []float32{0, 1, 1, 0, 2, 2, 3, 1, 0, 5, 1, 1, 4, 4, 2, 0}
	y := []int64{0, 1, 2, 1, 0, 2, 1, 0}
	name := "npy:" + save("x.npy", []int{8, 2}, x) + "," + save("y.npy", []int{8}, y) + "," +
		save("tx.npy", []int{2, 2}, x[:4]) + "," + save("ty.npy", []int{2}, y[:2])
	ds, err := data.Load(name, data.Options{ValSize: 2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Shape, ds.Classes, ds.Train.N, ds.Val.N, ds.Test.N)
	// Output: [2] 3 6 2 2
}

func ExampleFormatList() {
	sts := []data.Status{
		{Name: "mnist", State: data.StateVerified, Path: "/cache/mnist"},
		{Name: "cifar10", State: data.StateMissing, Path: "/cache/cifar10", Files: []data.FileStatus{
			{Name: "cifar-10-binary.tar.gz", State: data.StateMissing, Detail: "partial download: fetch again to resume"},
		}},
	}
	data.FormatList(os.Stdout, sts)
	// Output:
	// DATASET                   STATE     PATH
	// mnist                     verified  /cache/mnist
	// cifar10                   missing   /cache/cifar10
	//   cifar-10-binary.tar.gz  missing   partial download: fetch again to resume
}
