package runner_test

import (
	"context"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

func readWatermark(t *testing.T, f *fixture, group string) (time.Time, error) {
	t.Helper()
	s, err := sink.Open(context.Background(), f.cfg.Destination)
	if err != nil {
		return time.Time{}, err
	}
	defer s.Close()
	wm, err := runner.ReadWatermark(context.Background(), s, group)
	if err != nil || wm == nil {
		return time.Time{}, err
	}
	return wm.TransactionTime, nil
}

// dpctestSmallFiles makes a job write many small files, so a run has several downloads.
func dpctestSmallFiles() []dpctest.Option {
	return []dpctest.Option{dpctest.WithFileResources(20), dpctest.WithBatchSize(10)}
}
