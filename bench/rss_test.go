package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/load/s3test"
)

// BenchmarkRunRSS is the peak RSS of the real dpcetl binary exporting DPCETL_BENCH_PATIENTS
// (default 20,000) patients in 4 groups, with the default memory_limit (256 MiB), to a
// directory and to S3 (versitygw). The sandbox serves from this process, so the figure is
// dpcetl's alone; report.mjs puts it into bench/results.md.
func BenchmarkRunRSS(b *testing.B) {
	patients := 20000
	if v, err := strconv.Atoi(os.Getenv("DPCETL_BENCH_PATIENTS")); err == nil && v > 0 {
		patients = v
	}
	root := b.TempDir()
	bin := filepath.Join(root, "dpcetl")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/dpcetl/dpcetl/cmd/dpcetl").CombinedOutput(); err != nil {
		b.Fatalf("build dpcetl: %v\n%s", err, out)
	}
	srv := dpctest.NewServer(dpctest.WithRosterLimit(0), dpctest.WithJobDuration(time.Second), dpctest.WithDataDir(filepath.Join(root, "sandbox")))
	defer srv.Close()
	sb, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{Patients: patients, Practitioners: 4})
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{"key.pem": sb.PrivateKeyPEM, "token": []byte(sb.Credentials.ClientToken)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	s3 := s3test.Start(b)
	for _, dest := range []struct{ name, url string }{{"file", ""}, {"s3", s3.URL("rss")}} {
		b.Run(dest.name, func(b *testing.B) {
			for i := range b.N {
				dir := filepath.Join(root, fmt.Sprintf("%s-%d", dest.name, i))
				url := dest.url
				if url == "" {
					url = filepath.Join(dir, "out")
				}
				cfg := filepath.Join(root, dest.name+".yaml")
				y := fmt.Sprintf("api: %s\ncredentials:\n  client_token_file: %s\n  private_key_file: %s\n  key_id: %s\n"+
					"destination: %q\nstate_dir: %s\nsince: full\npoll_interval: 200ms\n",
					srv.BaseURL(), filepath.Join(root, "token"), filepath.Join(root, "key.pem"), sb.KeyID, url, filepath.Join(dir, "state"))
				if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
					b.Fatal(err)
				}
				cmd := exec.Command(bin, "run", "--config", cfg, "--log-format", "json")
				cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s3.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3.SecretKey,
					"AWS_REGION="+s3.Region, "AWS_EC2_METADATA_DISABLED=true")
				start := time.Now()
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("dpcetl run: %v\n%s", err, tail(out))
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
				b.ReportMetric(cpu.Seconds(), "cpu-s")
				b.ReportMetric(time.Since(start).Seconds(), "wall-s")
				os.RemoveAll(dir)
			}
		})
	}
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		return b[len(b)-4000:]
	}
	return b
}
