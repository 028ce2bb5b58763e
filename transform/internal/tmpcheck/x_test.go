package tmpcheck
import ("testing";"time";"bytes";"io";"context";"syscall";"runtime";"github.com/dpcetl/dpcetl/extract/dpctest/synth";"github.com/dpcetl/dpcetl/schemas";"github.com/dpcetl/dpcetl/transform";"github.com/dpcetl/dpcetl/transform/view")
func cpuTime() time.Duration { var ru syscall.Rusage; syscall.Getrusage(syscall.RUSAGE_SELF, &ru); return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()) }
func BenchmarkT2(b *testing.B){
 runtime.GOMAXPROCS(1)
 for _, ver := range []synth.FHIRVersion{synth.STU3, synth.R4} {
 g := synth.New(synth.Options{Seed:3, Version: ver, Epoch: time.Date(2026,1,1,0,0,0,0,time.UTC)})
 vs, _ := schemas.Views(ver.String())
 var eob []*view.View
 for _, v := range vs { if v.Resource == "ExplanationOfBenefit" { eob = append(eob, v) } }
 eng, _ := transform.New(eob)
 var buf []byte
 for i:=0;i<200;i++{ buf,_ = g.AppendNDJSON(buf, g.MBI(i), "ExplanationOfBenefit", time.Time{}, time.Date(2030,1,1,0,0,0,0,time.UTC)) }
 b.Run(ver.String(), func(b *testing.B){
 c0 := cpuTime()
 for i:=0;i<b.N;i++{
 src := transform.Source{Name: "x", Open: func()(io.ReadCloser, error){ return io.NopCloser(bytes.NewReader(buf)), nil }}
 _, err := eng.Run(context.Background(), []transform.Source{src}, func(b transform.Batch) error { b.Record.Release(); return nil })
 if err != nil { b.Fatal(err) }
 }
 b.ReportMetric(float64(len(buf))*float64(b.N)/(cpuTime()-c0).Seconds()/1e6, "MB/cpu-s")
 })
 }
}
