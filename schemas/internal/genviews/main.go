// Command genviews writes dpcetl's generated schema files: the built-in ViewDefinitions
// (schemas/{stu3,r4}/*.json, from schemas/internal/viewgen) and, with -readme, schemas/README.md.
//
// Run through `go generate ./schemas` (both steps, in order: the README step is compiled after
// the views are written, so it documents the new ones). TestGeneratedFilesUpToDate fails when a
// checked-in file differs from this output.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dpcetl/dpcetl/schemas"
	"github.com/dpcetl/dpcetl/schemas/internal/viewgen"
)

func main() {
	dir := flag.String("dir", ".", "the schemas directory to write into")
	readme := flag.Bool("readme", false, "write README.md from the embedded views instead of the views")
	flag.Parse()
	if err := run(*dir, *readme); err != nil {
		fmt.Fprintln(os.Stderr, "genviews:", err)
		os.Exit(1)
	}
}

func run(dir string, readme bool) error {
	if readme {
		doc, err := schemas.Docs()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "README.md"), []byte(doc), 0o644)
	}
	files, err := viewgen.Files()
	if err != nil {
		return err
	}
	// Remove views of tables that no longer exist, so the embed set equals the generator's.
	for _, ver := range []string{viewgen.STU3, viewgen.R4} {
		old, _ := filepath.Glob(filepath.Join(dir, ver, "*.json"))
		for _, p := range old {
			rel, _ := filepath.Rel(dir, p)
			if _, keep := files[filepath.ToSlash(rel)]; !keep {
				if err := os.Remove(p); err != nil {
					return err
				}
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, ver), 0o755); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(n)), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
