package cli_test

import (
	"context"
	"os"

	"github.com/dpcetl/dpcetl/pipelines/cli"
)

func ExampleMain() {
	code := cli.Main(context.Background(), []string{"config", "validate", "../examples/embedded.yaml"}, cli.Env{Stdout: os.Stdout})
	os.Stdout.WriteString(map[bool]string{true: "exit 0\n", false: "failed\n"}[code == cli.ExitOK])
	// Output:
	// ../examples/embedded.yaml: ok
	// exit 0
}
