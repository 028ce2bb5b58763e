// Package airflow_test runs the Airflow DAGs' task callables (testdata/test_dags.py) with a
// stand-in for Airflow against the real dpcetl binary and a standalone DPC sandbox.
package airflow_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startSandbox runs cmd/dpc-sandbox with three groups and waits for its credentials.
func startSandbox(t *testing.T, bin string) string {
	t.Helper()
	creds := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--addr", freePort(t), "--patients", "9", "--practitioners", "3",
		"--credentials-dir", creds, "--min-key-bits", "2048", "--job-duration", "1s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "dpc-sandbox listening on") {
				close(ready)
				break
			}
		}
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case <-ready:
	case <-time.After(2 * time.Minute):
		t.Fatal("dpc-sandbox did not start")
	}
	return creds
}

func TestDAGCallablesWithAirflowStandIn(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to test the Airflow DAGs: apt-get install -y python3")
	}
	bins := t.TempDir()
	dpcetl := build(t, bins, "github.com/dpcetl/dpcetl/cmd/dpcetl")
	creds := startSandbox(t, build(t, bins, "github.com/dpcetl/dpcetl/cmd/dpc-sandbox"))
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"3", "2"} {
		t.Run("airflow"+version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, "-m", "unittest", "-v", "test_dags")
			cmd.Dir = filepath.Join(here, "testdata")
			cmd.Env = append(os.Environ(),
				"PYTHONPATH="+strings.Join([]string{
					filepath.Join(here, "testdata", "airflow"+version),
					filepath.Join(here, "testdata", "common"),
					here,
				}, string(os.PathListSeparator)),
				"PYTHONDONTWRITEBYTECODE=1",
				"DPCETL_TEST_BIN="+dpcetl,
				"DPCETL_TEST_SANDBOX="+creds,
				"DPCETL_TEST_AIRFLOW="+version,
			)
			out, err := cmd.CombinedOutput()
			t.Logf("python -m unittest test_dags (Airflow %s stand-in):\n%s", version, out)
			if err != nil {
				t.Fatalf("DAG tests failed: %v", err)
			}
			if !strings.Contains(string(out), "OK") {
				t.Fatalf("unittest did not report OK:\n%s", out)
			}
		})
	}
}
