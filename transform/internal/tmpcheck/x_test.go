package tmpcheck
import ("testing";"time";"bytes";"io";"context";"github.com/dpcetl/dpcetl/extract/dpctest/synth";"github.com/dpcetl/dpcetl/schemas";"github.com/dpcetl/dpcetl/transform")
func BenchmarkT2(b *testing.B){
 ver := synth.STU3
 g := synth.New(synth.Options{Seed:3, Version: ver, Epoch: time.Date(2026,1,1,0,0,0,0,time.UTC)})
 vs, _ := schemas.Views(ver.String())
 eng, _ := transform.New(vs)
 var buf []byte
 for i:=0;i<200;i++{ buf,_ = g.AppendNDJSON(buf, g.MBI(i), "ExplanationOfBenefit", time.Time{}, time.Date(2030,1,1,0,0,0,0,time.UTC)) }
 b.SetBytes(int64(len(buf)))
 b.ResetTimer()
 for i:=0;i<b.N;i++{
 src := transform.Source{Name: "x", Open: func()(io.ReadCloser, error){ return io.NopCloser(bytes.NewReader(buf)), nil }}
 _, err := eng.Run(context.Background(), []transform.Source{src}, func(b transform.Batch) error { b.Record.Release(); return nil })
 if err != nil { b.Fatal(err) }
 }
}
