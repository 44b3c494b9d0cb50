package pipeline

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSeed runs the seed-shaped request (R1 of make bench: the Apollo
// crew's 3 faces into the office photo, JPEG q95 out) through Run, in this
// process, and reports each stage's mean: where a request's time goes
// without HTTP. Run it with -cpu 1 for one core.
func BenchmarkSeed(b *testing.B) {
	p := pipe(b)
	r := &Request{Source: read(b, "group3_apollo11_crew.jpg"), Target: read(b, "group5_office_meeting.jpg"),
		InputFacesIndex: "0,1,2", SourceFacesIndex: "0,1,2"}
	if _, err := p.Run(context.Background(), r); err != nil {
		b.Fatal(err)
	}
	stages := map[string]time.Duration{}
	var order []string
	for b.Loop() {
		res, err := p.Run(context.Background(), r)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range res.Stages {
			if _, ok := stages[s.Name]; !ok {
				order = append(order, s.Name)
			}
			stages[s.Name] += s.Duration
		}
	}
	for _, name := range order {
		b.ReportMetric(float64(stages[name].Microseconds())/1000/float64(b.N), name+"-ms")
	}
}
