package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/pipeline"
)

// loadCostTable reads the --cost-table file; "" is the built-in table.
func loadCostTable(path string) (*cost.Table, error) {
	if path == "" {
		return cost.DefaultTable(), nil
	}
	t, err := cost.LoadTable(path)
	if err != nil {
		return nil, fmt.Errorf("--cost-table: %v", err)
	}
	return t, nil
}

func runCost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cost")
	latency := fs.Bool("measure-latency", false, "also time the models of records without a latency")
	all := fs.Bool("all", false, "recompute every record's figures, not only missing or outdated ones")
	base3 := fs.Bool("base3", false, "count ternary layers as base-3 packed (as the sweep did with --base3)")
	tablePath := fs.String("cost-table", "", "energy table (YAML); default: the built-in 45 nm table")
	printTable := fs.Bool("print-table", false, "print the built-in energy table (a template for --cost-table) and exit")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object, last on stdout")
	pos, err := parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	if *printTable {
		_, err := io.WriteString(stdout, cost.DefaultTableSource())
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: missing argument DIR (a sweep folder)", errUsage)
	}
	table, err := loadCostTable(*tablePath)
	if err != nil {
		return err
	}
	sum, err := pipeline.Recost(ctx, pos[0], pipeline.RecostOptions{Packed: packed.Options{Base3: *base3}, Table: table, Latency: *latency, All: *all, Log: stderr})
	if err != nil {
		return err
	}
	for _, m := range sum.Missing {
		fmt.Fprintf(stderr, "cost: no model for %s\n", m)
	}
	fmt.Fprintf(stdout, "cost: %d records given cost figures, %d timed, %d without a model -> %s\n", sum.Computed, sum.Timed, len(sum.Missing), pos[0])
	if *asJSON {
		return printJSON(stdout, sum)
	}
	return nil
}

// parseList parses a comma-separated list of quantities for flag; "" is
// nil (the default).
func parseList(flag, s string, parse func(string) (float64, error)) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, x := range strings.Split(s, ",") {
		v, err := parse(x)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errUsage, flag, err)
		}
		out = append(out, v)
	}
	return out, nil
}
