package ids_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/minimart/minimart/internal/platform/ids"
)

func TestIDsAreUniqueOrderedAndStringsInJSON(t *testing.T) {
	g, err := ids.NewGenerator(7)
	if err != nil {
		t.Fatal(err)
	}
	seen := sync.Map{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			prev := ids.ID(0)
			for range 2000 {
				id := g.New()
				if id <= prev {
					t.Errorf("not increasing: %d after %d", id, prev)
				}
				prev = id
				if _, dup := seen.LoadOrStore(id, true); dup {
					t.Errorf("duplicate id %d", id)
				}
			}
		})
	}
	wg.Wait()

	id := ids.ID(2124514024648343552) // above 2^53: a JSON number would lose digits
	b, _ := json.Marshal(struct{ ID ids.ID }{id})
	if string(b) != `{"ID":"2124514024648343552"}` {
		t.Fatalf("marshal: %s", b)
	}
	for _, in := range []string{`"2124514024648343552"`, `2124514024648343552`} {
		var back ids.ID
		if err := json.Unmarshal([]byte(in), &back); err != nil || back != id {
			t.Fatalf("unmarshal %s: %v %v", in, back, err)
		}
	}
	for _, bad := range []string{`"abc"`, `"-1"`, `"0"`, `1.5`, `"99999999999999999999"`, `true`} {
		var v ids.ID
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted as an id", bad)
		}
	}
	if _, err := ids.NewGenerator(1024); err == nil {
		t.Fatal("node 1024 must be refused")
	}
}
