// Command dpcetlbench runs one dpcetl benchmark job in its own process (so that CPU time and
// peak RSS are the job's alone) and prints one JSON line; bench/duckdb/report.mjs drives it.
//
//	dpcetlbench -gen R4 -mb 64 -out eob-R4.ndjson        # write a corpus
//	dpcetlbench -in eob-R4.ndjson -version R4 -job full -cores 1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dpcetlbench:", err)
		os.Exit(1)
	}
}

func cpuAndRSS() (time.Duration, float64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), float64(ru.Maxrss) / 1024
}

func run() error {
	gen := flag.String("gen", "", "write a corpus of this FHIR version (STU3 or R4) to -out and exit")
	mb := flag.Int("mb", 64, "corpus size in MB (with -gen)")
	out := flag.String("out", "", "corpus path (with -gen)")
	in := flag.String("in", "", "corpus to transform")
	version := flag.String("version", "R4", "FHIR version of the corpus (selects the views)")
	job := flag.String("job", "full", "full (every EOB table), load (the same through load.Run, to a temporary directory), duckjob (eob + eob_line) or scan (JSON scan only)")
	cores := flag.Int("cores", 1, "GOMAXPROCS, transform workers and line-boundary parts of the file")
	flag.Parse()
	if *gen != "" {
		v, err := bench.Version(*gen)
		if err != nil {
			return err
		}
		return os.WriteFile(*out, bench.EOBCorpus(v, *mb<<20), 0o644)
	}
	runtime.GOMAXPROCS(*cores)
	st, err := os.Stat(*in)
	if err != nil {
		return err
	}
	var names []string
	switch *job {
	case "full", "scan", "load":
	case "duckjob":
		names = bench.DuckJob
	default:
		return fmt.Errorf("unknown job %q", *job)
	}
	views, err := bench.EOBViews(*version, names)
	if err != nil {
		return err
	}
	srcs, err := bench.Sources(*in, *cores)
	if err != nil {
		return err
	}
	runtime.GC()
	c0, _ := cpuAndRSS()
	t0 := time.Now()
	var res bench.Result
	if *job == "scan" {
		_, err = bench.ScanOnly(*in)
	} else {
		if *job == "load" {
			dir, derr := os.MkdirTemp("", "dpcetlbench-load-")
			if derr != nil {
				return derr
			}
			defer os.RemoveAll(dir)
			res, err = bench.RunLoad(context.Background(), srcs, views, memory.NewGoAllocator(), *cores, dir)
		} else {
			res, err = bench.RunParquet(context.Background(), srcs, views, memory.NewGoAllocator(), *cores)
		}
	}
	if err != nil {
		return err
	}
	wall := time.Since(t0)
	c1, rss := cpuAndRSS()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"engine": "dpcetl", "version": *version, "job": *job, "threads": *cores, "tables": res.Tables,
		"rows": res.Rows, "parquet_bytes": res.ParquetBytes, "corpus_bytes": st.Size(),
		"cpu_s": (c1 - c0).Seconds(), "wall_s": wall.Seconds(), "max_rss_mib": rss,
	})
}
