// composecheck loads a compose file with compose-go, the loader `docker compose` itself uses
// (interpolation, the Compose Specification's schema, then its own consistency checks), with
// only the given environment files as the environment, and prints what it resolved. It needs
// no Docker engine: `make check-compose` runs it on deploy/compose.yaml and
// deploy/.env.example.
//
//	go run . ../compose.yaml ../.env.example
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: composecheck COMPOSE_FILE ENV_FILE...")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(
		[]string{os.Args[1]},
		cli.WithEnvFiles(os.Args[2:]...),
		cli.WithDotEnv,
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		service := project.Services[name]
		fmt.Printf("%-12s %s\n", name, service.Image)
	}
	fmt.Printf("compose: %s is valid (project %q, %d services, %d volumes)\n",
		os.Args[1], project.Name, len(names), len(project.Volumes))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose: invalid:", err)
	os.Exit(1)
}
