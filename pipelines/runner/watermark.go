package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/dpcetl/dpcetl/load/sink"
)

// Watermark is a group's incremental position: the transactionTime of the last export whose
// output was fully committed. It lives beside the output, at WatermarkKey(group), so every
// worker writing to the same destination sees the same position.
type Watermark struct {
	Group           string    `json:"group"`
	TransactionTime time.Time `json:"transaction_time"`
	JobID           string    `json:"job_id"`
	RunID           string    `json:"run_id"`
	Since           time.Time `json:"since,omitzero"`
	CommittedAt     time.Time `json:"committed_at"`
}

// pending is written before a load commits and removed after the watermark moves: if a
// process dies between the two, the next run finds it and finishes (or undoes) the job.
type pending struct {
	Group           string    `json:"group"`
	JobID           string    `json:"job_id"`
	RunID           string    `json:"run_id"`
	ExportDate      string    `json:"export_date"`
	Since           time.Time `json:"since,omitzero"`
	TransactionTime time.Time `json:"transaction_time"`
	Hold            string    `json:"hold,omitempty"` // the watermark must not move to this run: why (report.Export.WatermarkHeld)
}

// StatePrefix is where dpcetl keeps its own objects in the destination.
const StatePrefix = "_state/"

// WatermarkKey is the object key of a group's watermark in the destination.
func WatermarkKey(group string) string {
	return StatePrefix + "groups/" + url.PathEscape(group) + "/watermark.json"
}

func pendingKey(group string) string {
	return StatePrefix + "groups/" + url.PathEscape(group) + "/pending.json"
}

// ReadWatermark returns the group's watermark, or nil when the group has never committed.
func ReadWatermark(ctx context.Context, s sink.Sink, group string) (*Watermark, error) {
	var w Watermark
	ok, err := getJSON(ctx, s, WatermarkKey(group), &w)
	if err != nil || !ok {
		return nil, err
	}
	return &w, nil
}

func getJSON(ctx context.Context, s sink.Sink, key string, v any) (bool, error) {
	rc, err := s.Get(ctx, key)
	if errors.Is(err, sink.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", s.URL(key), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", s.URL(key), err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s is corrupt: %w", s.URL(key), err)
	}
	return true, nil
}

func putJSON(ctx context.Context, s sink.Sink, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	w, err := s.NewWriter(ctx, key)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.URL(key), err)
	}
	defer w.Abort()
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", s.URL(key), err)
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", s.URL(key), err)
	}
	return nil
}
