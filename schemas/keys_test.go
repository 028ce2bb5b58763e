package schemas

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every documented key is unique in the hand-checked golden rows of both FHIR versions, names
// real columns, and every table but the export_error and deleted_resource logs has one; its latest view is generated
// in every dialect.
func TestKeysAreUniqueAndHaveLatestViews(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		defs, err := Definitions(version)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range defs {
			k, ok := KeyOf(tb.Name)
			if !ok {
				if tb.Name != TableExportError && tb.Name != TableDeletedResource {
					t.Errorf("%s has no key", tb.Name)
				}
				continue
			}
			names := map[string]bool{}
			for _, c := range allColumns(tb) {
				names[c.Name] = true
			}
			for _, c := range append(append([]string(nil), k.Columns...), k.Join...) {
				if !names[c] {
					t.Errorf("%s key column %s is not a column", tb.Name, c)
				}
			}
			if k.Parent != "" && !slices.Contains(k.Columns, k.Join[0]) {
				t.Errorf("%s: the parent's key %v must be part of the child's key %v", tb.Name, k.Join, k.Columns)
			}
			raw, err := os.ReadFile(filepath.Join(goldenDir, strings.ToLower(version), tb.Name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var g struct{ Rows []map[string]any }
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			if len(g.Rows) == 0 {
				t.Fatalf("%s %s: no golden rows to check the key on", version, tb.Name)
			}
			if k.Repeats {
				continue
			}
			seen := map[string]string{}
			for _, r := range g.Rows {
				// each sample file is one delivery
				parts := []string{fmt.Sprint(r["_source"])}
				for _, c := range k.Columns {
					parts = append(parts, fmt.Sprint(r[c]))
				}
				id := strings.Join(parts, "|")
				if prev, dup := seen[id]; dup {
					t.Errorf("%s %s: key %v = %s repeats in one delivery (%v)", version, tb.Name, k.Columns, id, prev)
				}
				seen[id] = fmt.Sprint(r)
			}
		}
		for _, d := range Dialects() {
			ddl, err := DDL(d, defs, DDLOptions{Location: "s3://b/dpc"})
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range defs {
				_, ok := KeyOf(tb.Name)
				if has := strings.Contains(ddl, tb.Name+LatestSuffix+" AS\n"); has != ok {
					t.Errorf("%s %s: latest view present = %v, want %v", d, tb.Name, has, ok)
				}
			}
			// A child's view reads its parent's, which must be created before it.
			if strings.Index(ddl, "VIEW eob"+LatestSuffix+" AS") > strings.Index(ddl, "VIEW eob_line"+LatestSuffix+" AS") {
				t.Errorf("%s: eob_line_latest is created before eob_latest", d)
			}
		}
	}
}
