package runner

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/schemas"
)

// resourceLine turns a vendored BFD sample (one resource) into one NDJSON line.
func resourceLine(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return append(out, '\n')
}

func TestFileVersions(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) extract.File {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return extract.File{Path: p}
	}
	bfd := filepath.Join("..", "..", "testdata", "bfd")
	r4 := write("r4-eob.ndjson", resourceLine(t, filepath.Join(bfd, "r4", "eobReadCarrier.json")))
	stu3 := write("stu3-eob.ndjson", resourceLine(t, filepath.Join(bfd, "stu3", "eobReadCarrier.json")))
	pat, err := os.ReadFile(filepath.Join(bfd, "dpc", "f1e518f5-4977-47c6-971b-7eeaf1b433e8-0.patient.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	patients := write("patients.ndjson", pat)

	got, err := FileVersions("auto", []extract.File{r4, stu3, patients})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[schemas.R4]) != 1 || got[schemas.R4][0] != r4 || len(got[schemas.STU3]) != 2 || got[schemas.STU3][0] != stu3 || got[schemas.STU3][1] != patients {
		t.Errorf("auto: %v", got)
	}
	// Undecided files follow the decided ones.
	got, _ = FileVersions("auto", []extract.File{r4, patients})
	if len(got[schemas.R4]) != 2 || len(got[schemas.STU3]) != 0 {
		t.Errorf("R4 job: %v", got)
	}
	// A named version takes every file as it is.
	got, _ = FileVersions("R4", []extract.File{stu3, patients})
	if len(got[schemas.R4]) != 2 {
		t.Errorf("R4: %v", got)
	}
	got, _ = FileVersions("", []extract.File{r4})
	if len(got[schemas.STU3]) != 1 {
		t.Errorf("default: %v", got)
	}
	if _, err := FileVersions("R5", nil); !errors.Is(err, config.ErrInvalid) {
		t.Errorf("R5: %v", err)
	}
	mixed := write("mixed.ndjson", append(resourceLine(t, filepath.Join(bfd, "stu3", "eobReadPde.json")), resourceLine(t, filepath.Join(bfd, "r4", "eobReadPde.json"))...))
	if _, err := FileVersions("auto", []extract.File{mixed}); !errors.Is(err, ErrBadData) {
		t.Errorf("mixed: %v", err)
	}
}
