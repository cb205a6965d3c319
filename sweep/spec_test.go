package sweep

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

const goodSpec = `name: t
dataset: mnist
limit: 500
family: mlp
mlp: {widths: [32, 64, 128, 256], depths: [2, 3], act: relu, dropout: 0.2}
bits: [2, 3]
modes: [float, direct, retrain]
seeds: [1, 2]
float: {epochs: 10, lr: 0.1, batch: 100}
retrain:
  epochs: 3
  lr: 0.01
quant: {rule: l2, per_channel: false, first_last_bits: 0, reestimate: 0}
workers: 0
`

func TestParseSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown key", "dataset: mnist\nmlp:\n  widht: [32]\n", `spec.yaml:3: unknown key "widht" in mlp (did you mean "widths"?)`},
		{"unknown top key", "dataset: mnist\nmlp: {widths: [32]}\nbitz: [2]\n", `spec.yaml:3: unknown key "bitz" (did you mean "bits"?)`},
		{"budget unit", "dataset: mnist\nmlp: {widths: [32]}\nbudgets:\n  weight_bytes: [64KiB, 3 parsecs]\n", `spec.yaml:4: budgets.weight_bytes: unknown unit "parsecs"`},
		{"negative energy budget", "dataset: mnist\nmlp: {widths: [32]}\nbudgets: {energy: [-1nJ]}\n", `budgets.energy: "-1nJ" is negative`},
		{"unknown no suggestion", "dataset: mnist\nmlp: {widths: [32]}\nzzzzzzzz: 1\n", `spec.yaml:3: unknown key "zzzzzzzz" (known keys: name,`},
		{"wrong type list", "dataset: mnist\nmlp: {widths: [32]}\nbits: [two]\n", `spec.yaml:3: bits: want an integer, got string "two"`},
		{"wrong type scalar", "dataset: mnist\nmlp: {widths: [32]}\nlimit: [1, 2]\n", `spec.yaml:3: limit: want an integer, got a list`},
		{"wrong type float", "dataset: mnist\nmlp: {widths: [32]}\nfloat:\n  lr: fast\n", `spec.yaml:4: float.lr: want a number, got string "fast"`},
		{"wrong type bool", "dataset: mnist\nmlp: {widths: [32]}\nquant: {per_channel: 3}\n", `spec.yaml:3: quant.per_channel: want true or false, got integer "3"`},
		{"wrong type mapping", "dataset: mnist\nmlp: [32]\n", `spec.yaml:2: mlp: want a mapping of keys, got a list`},
		{"negative seed", "dataset: mnist\nmlp: {widths: [32]}\nseeds: [-1]\n", `spec.yaml:3: seeds: want a non-negative integer, got integer "-1"`},
		{"bad bits", "dataset: mnist\nmlp: {widths: [32]}\n\nbits: [2, 9]\n", `spec.yaml:4: bits 9 out of range 2..8`},
		{"bad mode", "dataset: mnist\nmlp: {widths: [32]}\nmodes: [float, quantize]\n", `spec.yaml:3: mode "quantize": want float, direct or retrain`},
		{"bad family", "dataset: mnist\nfamily: rnn\n", `spec.yaml:2: family "rnn": want mlp, cnn, lstm or gru`},
		{"no dataset", "mlp: {widths: [32]}\n", `spec.yaml: dataset is required`},
		{"no widths", "dataset: mnist\nfamily: mlp\n", `spec.yaml: family mlp needs mlp.widths`},
		{"zero width", "dataset: mnist\nmlp:\n  widths: [32, 0]\n", `spec.yaml:3: width 0 out of range`},
		{"bad epochs", "dataset: mnist\nmlp: {widths: [32]}\nretrain:\n  lr: 0.1\n  epochs: 0\n", `spec.yaml:5: retrain.epochs 0 must be >= 1`},
		{"bad lr", "dataset: mnist\nmlp: {widths: [32]}\nfloat: {lr: -1}\n", `spec.yaml:3: float.lr -1 must be > 0`},
		{"dup value", "dataset: mnist\nmlp: {widths: [32, 64, 32]}\n", `spec.yaml:2: mlp.widths lists 32 twice`},
		{"dup key", "dataset: mnist\nmlp: {widths: [32]}\ndataset: cifar10\n", `spec.yaml:3:`},
		{"bad scale", "dataset: mnist\nfamily: cnn\ncnn: {scales: [0.5, 0]}\n", `spec.yaml:3: scale 0 out of range`},
		{"bad rule", "dataset: mnist\nmlp: {widths: [32]}\nquant:\n  rule: l7\n", `spec.yaml:4: rule "l7": want l2, maxabs, twn or pow2`},
		{"syntax", "dataset: mnist\nmlp: {widths: [32]\nbits: 2\n", `spec.yaml:`},
		{"empty", "", `spec.yaml: empty spec`},
		{"not a mapping", "- 1\n- 2\n", `spec.yaml:1: spec: want a mapping of keys, got a list`},
		{"two docs", "dataset: mnist\nmlp: {widths: [32]}\n---\nfoo: 1\n", `more than one YAML document`},
		{"empty bits", "dataset: mnist\nmlp: {widths: [32]}\nbits: []\n", `spec.yaml:3: bits is an empty list`},
		{"empty seeds", "dataset: mnist\nmlp: {widths: [32]}\nseeds: []\n", `spec.yaml:3: seeds is an empty list`},
		{"empty modes", "dataset: mnist\nmlp: {widths: [32]}\nmodes: []\n", `spec.yaml:3: modes is an empty list`},
		{"empty widths", "dataset: mnist\nmlp: {widths: []}\n", `spec.yaml:2: mlp.widths is an empty list`},
		{"empty depths", "dataset: mnist\nmlp: {widths: [32], depths: []}\n", `spec.yaml:2: mlp.depths is an empty list`},
		{"empty scales", "dataset: mnist\nfamily: cnn\ncnn: {scales: []}\n", `spec.yaml:3: cnn.scales is an empty list`},
		{"twn at 3 bits", "dataset: mnist\nmlp: {widths: [32]}\nbits: [2, 3]\nquant: {rule: twn}\n", `spec.yaml:4: quant with bits 3: quant: rule twn is ternary only`},
		{"spec too large", "dataset: mnist\nmlp: {widths: [32]}\nseeds: [" + seedList(200000) + "]\n", `spec.yaml: 1488938 bytes: a spec is at most 1048576 bytes`},
		{"grid too large", "dataset: mnist\nmlp: {widths: [32, 64]}\nbits: [2, 3, 4]\nseeds: [" + seedList(20000) + "]\n", `the grid has more than 100000 cells`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec("spec.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), "sweep: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestSpecBudgets(t *testing.T) {
	src := "dataset: mnist\nmlp: {widths: [32]}\nbudgets: {weight_bytes: [8KiB, 1.5MB, 200000], energy: [200nJ, 1uJ]}\n"
	s, err := ParseSpec("spec.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w, e, err := s.Budgets.Values()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w, []float64{8192, 1.5e6, 200000}) || !slices.Equal(e, []float64{200, 1000}) {
		t.Fatalf("budgets %v bytes, %v nJ", w, e)
	}
	plain, err := ParseSpec("spec.yaml", []byte("dataset: mnist\nmlp: {widths: [32]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Cells()
	b, _ := plain.Cells()
	if len(a) != len(b) || a[0].ID != b[0].ID {
		t.Fatal("budgets changed the cell IDs")
	}
}

func TestParseSpecDefaults(t *testing.T) {
	s, err := ParseSpec("quick.yaml", []byte("dataset: mnist\nmlp: {widths: [32]}\nfloat: {lr: 0.2, momentum: 0.5}\nretrain: {momentum: 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "quick" || s.Family != "mlp" || s.MLP.Act != "relu" || len(s.MLP.Depths) != 1 || s.MLP.Depths[0] != 3 {
		t.Fatalf("defaults: %+v", s)
	}
	if s.Float.Epochs != 10 || s.Float.Batch != 100 || s.Float.LR != 0.2 || s.Float.Momentum != 0.5 || s.Float.Optimizer != "sgd" {
		t.Fatalf("float budget %+v", s.Float)
	}
	// retrain inherits float's settings except epochs and lr (lr/10), and
	// keeps what the file set, even a zero.
	if s.Retrain.Epochs != 3 || s.Retrain.LR != 0.2/10 || s.Retrain.Momentum != 0 || s.Retrain.Batch != 100 || s.Retrain.Schedule != s.Float.Schedule {
		t.Fatalf("retrain budget %+v", s.Retrain)
	}
	if len(s.Bits) != 2 || len(s.Modes) != 3 || len(s.Seeds) != 1 || s.Quant.Rule != "l2" {
		t.Fatalf("defaults: %+v", s)
	}
	c, err := ParseSpec("c.yaml", []byte("dataset: cifar10\ncnn: {scales: [0.5, 1]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Family != "cnn" || c.CNN.Base != DefaultCNNBase {
		t.Fatalf("cnn defaults: %+v", c)
	}
	// The resolved spec prints and re-parses to itself.
	again, err := ParseSpec("quick.yaml", []byte(s.String()))
	if err != nil {
		t.Fatalf("re-parse of\n%s: %v", s, err)
	}
	a, _ := s.Cells()
	b, _ := again.Cells()
	if len(a) != len(b) || a[0].ID != b[0].ID || a[len(a)-1].ID != b[len(b)-1].ID {
		t.Fatal("resolved spec does not round-trip")
	}
}

func TestCellsExpansion(t *testing.T) {
	for _, tc := range []struct {
		modes          string
		cells, parents int
	}{
		{"[float, direct, retrain]", 16 * 5, 16},
		{"[float]", 16, 16},
		{"[direct]", 16 * 3, 16},
		{"[float, retrain]", 16 * 3, 16},
	} {
		src := strings.Replace(goodSpec, "modes: [float, direct, retrain]", "modes: "+tc.modes, 1)
		s, err := ParseSpec("spec.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		cells, err := s.Cells()
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		floats := 0
		groups := map[int]string{}
		for _, c := range cells {
			if ids[c.ID] {
				t.Fatalf("duplicate cell ID %s", c.ID)
			}
			ids[c.ID] = true
			if c.Parent == "" {
				floats++
				groups[c.Group] = c.ID
				if c.Config.Mode != ModeFloat || c.Config.Bits != 32 || c.Config.Quant != nil || c.Config.Retrain != nil {
					t.Fatalf("float cell %+v", c.Config)
				}
			} else if groups[c.Group] != c.Parent {
				t.Fatalf("cell %s: parent %s is not its group's float cell", c.Label(), c.Parent)
			}
			if (c.Config.Mode == ModeRetrain) != (c.Config.Retrain != nil) {
				t.Fatalf("cell %s: retrain budget %v", c.Label(), c.Config.Retrain)
			}
		}
		if len(cells) != tc.cells || floats != tc.parents {
			t.Fatalf("modes %s: %d cells (%d float), want %d (%d)", tc.modes, len(cells), floats, tc.cells, tc.parents)
		}
	}
}

func TestCellIDs(t *testing.T) {
	s, err := ParseSpec("spec.yaml", []byte(goodSpec))
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := s.Cells()
	// Golden: the canonical JSON of the first cell and its content address
	// (checked with: printf '%s' CANONICAL | sha256sum | cut -c1-32). They
	// change only when CellConfig's encoding changes, which must come with
	// a new IDFormat.
	const canon = `{"id_format":2,"dataset":"mnist","limit":500,"data_seed":1,"family":"mlp","width":32,"depth":2,"act":"relu","dropout":0.2,"init":"uniform","seed":1,"float":{"epochs":10,"batch":100,"lr":0.1,"optimizer":"sgd","momentum":0.9,"nesterov":false,"weight_decay":0,"schedule":"cosine","step_every":10,"gamma":0.1,"patience":0},"mode":"float","bits":32}`
	const want = "1c5de936595286cdf04fa848e25bdbce"
	if got := string(cells[0].Config.canonical()); got != canon {
		t.Fatalf("canonical JSON changed: %s", got)
	}
	if cells[0].ID != want {
		t.Logf("first cell ID %s (canonical %s)", cells[0].ID, cells[0].Config.canonical())
		t.Fatalf("cell ID changed: got %s want %s", cells[0].ID, want)
	}
	// Not hashed: name, workers, eval batch, the order of axes in the file.
	other := strings.NewReplacer("name: t", "name: other", "workers: 0", "workers: 2",
		"widths: [32, 64, 128, 256]", "widths: [256, 128, 64, 32]").Replace(goodSpec) + "eval_batch: 77\n"
	s2, err := ParseSpec("x.yaml", []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := s2.Cells()
	set := map[string]bool{}
	for _, c := range c2 {
		set[c.ID] = true
	}
	for _, c := range cells {
		if !set[c.ID] {
			t.Fatalf("cell %s: ID depends on something that should not be hashed", c.Label())
		}
	}
	// Hashed: every budget, data and quant field.
	for _, change := range [][2]string{
		{"limit: 500", "limit: 501"}, {"epochs: 10", "epochs: 11"}, {"dropout: 0.2", "dropout: 0.3"},
		{"rule: l2", "rule: maxabs"}, {"dataset: mnist", "dataset: fashion-mnist"}, {"act: relu", "act: tanh"},
	} {
		s3, err := ParseSpec("x.yaml", []byte(strings.Replace(goodSpec, change[0], change[1], 1)))
		if err != nil {
			t.Fatal(err)
		}
		c3, _ := s3.Cells()
		if c3[1].ID == cells[1].ID { // cell 1 is the first quantized cell
			t.Fatalf("%s -> %s does not change the cell ID", change[0], change[1])
		}
	}
	// retrain budget changes only retrain cells.
	s4, _ := ParseSpec("x.yaml", []byte(strings.Replace(goodSpec, "lr: 0.01", "lr: 0.02", 1)))
	c4, _ := s4.Cells()
	for i := range cells {
		same := c4[i].ID == cells[i].ID
		if same == (cells[i].Config.Mode == ModeRetrain) {
			t.Fatalf("retrain lr change: cell %s same ID = %v", cells[i].Label(), same)
		}
	}
}

func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		for _, have := range []bool{false, true} {
			s, err := PresetFor(name, func(string) bool { return have })
			if err != nil {
				t.Fatalf("preset %s: %v", name, err)
			}
			cells, err := s.Cells()
			if err != nil || len(cells) == 0 {
				t.Fatalf("preset %s: %d cells, %v", name, len(cells), err)
			}
			if name == "paper-cnn" {
				want := map[bool]string{false: "fashion-mnist", true: "cifar10"}[have]
				if s.Dataset != want {
					t.Fatalf("paper-cnn with cifar10 present=%v: dataset %s", have, s.Dataset)
				}
			}
		}
	}
	q, _ := Preset("quick")
	if cells, _ := q.Cells(); len(cells) != 4*5 || q.Dataset != "mnist" {
		t.Fatalf("quick: %d cells on %s", len(cells), q.Dataset)
	}
	p, _ := Preset("paper-ffdnn")
	if cells, _ := p.Cells(); len(cells) != 18*5 {
		t.Fatalf("paper-ffdnn: %d cells", len(cells))
	}
	if _, err := Preset("slow"); err == nil || !strings.Contains(err.Error(), "quick") {
		t.Fatalf("unknown preset: %v", err)
	}
}

func TestShardParsing(t *testing.T) {
	for _, tc := range []struct {
		env        map[string]string
		shard, n   int
		ok         bool
		errContain string
	}{
		{env: map[string]string{}},
		{env: map[string]string{"RESQ_SHARD": "2/3"}, shard: 2, n: 3, ok: true},
		{env: map[string]string{"RESQ_SHARD": "3/3"}, errContain: "want I/N"},
		{env: map[string]string{"JOB_COMPLETION_INDEX": "1", "RESQ_SHARDS": "4"}, shard: 1, n: 4, ok: true},
		{env: map[string]string{"JOB_COMPLETION_INDEX": "1"}, errContain: "RESQ_SHARDS"},
		{env: map[string]string{"JOB_COMPLETION_INDEX": "5", "RESQ_SHARDS": "4"}, errContain: "out of range"},
		{env: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}, shard: 2, n: 3, ok: true},
		{env: map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"}, shard: 2, n: 3, ok: true},
		{env: map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "3"}, errContain: "not an integer"},
	} {
		shard, n, ok, err := shardFromEnv(func(k string) string { return tc.env[k] })
		if tc.errContain != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errContain) {
				t.Fatalf("env %v: err %v, want %q", tc.env, err, tc.errContain)
			}
			continue
		}
		if err != nil || shard != tc.shard || n != tc.n || ok != tc.ok {
			t.Fatalf("env %v: %d/%d ok=%v err=%v", tc.env, shard, n, ok, err)
		}
	}
	if _, _, err := ParseShard("1"); err == nil {
		t.Fatal("ParseShard(\"1\"): no error")
	}
	if i, n, err := ParseShard(" 0/1 "); err != nil || i != 0 || n != 1 {
		t.Fatalf("ParseShard 0/1: %d %d %v", i, n, err)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"widht", "width", 1}, {"widht", "widths", 2}, {"abc", "", 3}, {"kitten", "sitting", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

// seedList returns "1, 2, ..., n".
func seedList(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strconv.Itoa(i + 1)
	}
	return strings.Join(parts, ", ")
}

// TestEmptyKeyKeepsDefault checks that a key without a value (YAML null)
// still takes the default, unlike an empty list.
func TestEmptyKeyKeepsDefault(t *testing.T) {
	s, err := ParseSpec("spec.yaml", []byte("dataset: mnist\nmlp: {widths: [32]}\nbits:\nseeds:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Bits) != 2 || len(s.Seeds) != 1 {
		t.Errorf("bits %v, seeds %v: want the defaults [2 3] and [1]", s.Bits, s.Seeds)
	}
}
