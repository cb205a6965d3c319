package sweep

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseShard parses "I/N" (I 0-based: 0..N-1), as given to --shard.
func ParseShard(s string) (shard, shards int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("sweep: shard %q: want I/N with 0 <= I < N, e.g. 0/3", s)
	}
	shard, err1 := strconv.Atoi(a)
	shards, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || shards < 1 || shard < 0 || shard >= shards {
		return 0, 0, fmt.Errorf("sweep: shard %q: want I/N with 0 <= I < N, e.g. 0/3 (shards are numbered from 0)", s)
	}
	return shard, shards, nil
}

// ShardFromEnv reads the shard of this process from the environment of a
// batch system. In order of precedence:
//
//   - RESQ_SHARD="I/N" (0-based);
//   - Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based) with the
//     number of shards in RESQ_SHARDS (Kubernetes does not export the
//     completion count; the example manifest sets it);
//   - Slurm job array: SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (0 when
//     unset), with SLURM_ARRAY_TASK_COUNT shards (or RESQ_SHARDS), so
//     --array=0-2 and --array=1-3 both give shards 0..2 of 3.
//
// ok is false when none is set. A variable that is set but malformed is
// an error.
func ShardFromEnv() (shard, shards int, ok bool, err error) {
	return shardFromEnv(os.Getenv)
}

func shardFromEnv(getenv func(string) string) (shard, shards int, ok bool, err error) {
	if v := getenv("RESQ_SHARD"); v != "" {
		shard, shards, err = ParseShard(v)
		if err != nil {
			return 0, 0, false, fmt.Errorf("sweep: RESQ_SHARD: %v", strings.TrimPrefix(err.Error(), "sweep: "))
		}
		return shard, shards, true, nil
	}
	atoi := func(name string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(getenv(name)))
		if err != nil {
			return 0, fmt.Errorf("sweep: %s=%q is not an integer", name, getenv(name))
		}
		return n, nil
	}
	var idx int
	switch {
	case getenv("JOB_COMPLETION_INDEX") != "":
		if idx, err = atoi("JOB_COMPLETION_INDEX"); err != nil {
			return 0, 0, false, err
		}
		if getenv("RESQ_SHARDS") == "" {
			return 0, 0, false, fmt.Errorf("sweep: JOB_COMPLETION_INDEX is set but RESQ_SHARDS is not: set RESQ_SHARDS to the Job's completions")
		}
		if shards, err = atoi("RESQ_SHARDS"); err != nil {
			return 0, 0, false, err
		}
	case getenv("SLURM_ARRAY_TASK_ID") != "":
		if idx, err = atoi("SLURM_ARRAY_TASK_ID"); err != nil {
			return 0, 0, false, err
		}
		if getenv("SLURM_ARRAY_TASK_MIN") != "" {
			lo, err := atoi("SLURM_ARRAY_TASK_MIN")
			if err != nil {
				return 0, 0, false, err
			}
			idx -= lo
		}
		name := "SLURM_ARRAY_TASK_COUNT"
		if getenv("RESQ_SHARDS") != "" {
			name = "RESQ_SHARDS"
		}
		if getenv(name) == "" {
			return 0, 0, false, fmt.Errorf("sweep: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: set RESQ_SHARDS to the array size")
		}
		if shards, err = atoi(name); err != nil {
			return 0, 0, false, err
		}
	default:
		return 0, 0, false, nil
	}
	if shards < 1 || idx < 0 || idx >= shards {
		return 0, 0, false, fmt.Errorf("sweep: shard index %d out of range 0..%d (from the batch system's environment)", idx, shards-1)
	}
	return idx, shards, true, nil
}
