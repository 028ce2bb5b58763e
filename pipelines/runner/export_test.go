package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/logging"
)

// LoadFiles runs transform, load and commit of one group over files a test delivers itself
// (the stages after download), with a runner on cfg's destination and state directory.
func LoadFiles(ctx context.Context, cfg config.Config, group, jobID string, m *export.Manifest, files []extract.File, so ...sink.Option) (*GroupSummary, error) {
	s, err := sink.Open(ctx, cfg.Destination, so...)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r := &Runner{cfg: cfg, log: slog.New(slog.DiscardHandler), now: time.Now, red: logging.NewRedactor(), sink: s, stateDir: cfg.StateDir}
	gs := newGroupSummary(group)
	return gs, r.transformLoad(ctx, group, jobID, m, files, gs)
}
