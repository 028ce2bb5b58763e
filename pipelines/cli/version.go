package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

// Version is set at build time with -ldflags "-X github.com/dpcetl/dpcetl/pipelines/cli.Version=…"
// (make build does); otherwise it is the module version from the build info.
var Version = "dev"

// buildInfo is what `dpcetl version` reports: the version, and the VCS revision, commit time
// and dirty flag that `go build` stamps into a binary built in a git checkout.
type buildInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Dirty    bool   `json:"dirty"`
	Go       string `json:"go"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: Version, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Dirty = s.Value == "true"
		}
	}
	return b
}

func versionCommand(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "version", Short: "print the version, the commit it was built from (and whether the tree was dirty)", Args: cmdkit.NoArgs}
	out := cmdkit.AddOutputFlag(c)
	c.RunE = func(*cobra.Command, []string) error {
		b := readBuildInfo()
		if out.JSON() {
			return cmdkit.WriteJSON(env.Stdout, b)
		}
		line := "dpcetl " + b.Version
		if b.Revision != "" {
			line += " commit " + b.Revision
			if b.Time != "" {
				line += " (" + b.Time + ")"
			}
			if b.Dirty {
				line += " dirty"
			}
		} else {
			line += " (no VCS information: build in a git checkout with -buildvcs=true, as make build does)"
		}
		_, err := fmt.Fprintln(env.Stdout, line+" "+b.Go)
		return err
	}
	return c
}
