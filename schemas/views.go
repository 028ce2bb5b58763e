package schemas

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dpcetl/dpcetl/transform/view"
)

// Views returns the built-in views of a FHIR version ("STU3" or "R4"), parsed and compiled,
// in documentation order. Both versions yield the same tables and columns.
func Views(version string) ([]*view.View, error) {
	raw, err := ViewJSON(version)
	if err != nil {
		return nil, err
	}
	dir, _ := versionDir(version)
	out := make([]*view.View, 0, len(tableOrder))
	for _, name := range tableOrder {
		v, err := view.Parse("schemas/"+dir+"/"+name+".json", raw[name])
		if err != nil {
			return nil, fmt.Errorf("schemas: built-in view: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// LoadDir parses the user's extra ViewDefinitions (every *.json file in dir) for extra tables.
// A view named like a built-in table, or two views with one name, is an error (ErrTableClash):
// extra tables add to the built-in ones and never replace them.
func LoadDir(dir string) ([]*view.View, error) {
	uvs, err := ReadDir(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	out := make([]*view.View, 0, len(uvs))
	for _, u := range uvs {
		v, err := view.Parse(filepath.Join(dir, u.File), u.JSON)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// AllViews returns the built-in views of a version plus the extra views of dir (when not empty).
func AllViews(version, dir string) ([]*view.View, error) {
	vs, err := Views(version)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return vs, nil
	}
	extra, err := LoadDir(dir)
	if err != nil {
		return nil, err
	}
	return append(vs, extra...), nil
}
