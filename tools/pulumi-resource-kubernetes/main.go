// Command pulumi-resource-kubernetes is govcloud's build of the Pulumi Kubernetes provider.
//
// The provider module's own cmd/pulumi-resource-kubernetes embeds schema-embed.json files
// that are generated in its repo and missing from the published module, so this wrapper
// embeds the provider's schema.json and terraform-mapping.json instead: build.sh copies
// them from the module cache next to this file before building, and this program stamps the
// provider version into the schema before serving it, as the upstream generator does.
package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		fmt.Println(version.Version)
		return
	}
	versioned, err := withVersion(schema, strings.TrimPrefix(version.Version, "v"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-kubernetes: embedded schema: %v\n", err)
		os.Exit(1)
	}
	provider.Serve("kubernetes", version.Version, versioned, terraformMapping)
}

// withVersion returns the schema with its top-level "version" set; the rest of the
// document is passed through untouched.
func withVersion(doc []byte, v string) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return nil, err
	}
	if v == "" {
		return doc, nil
	}
	quoted, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	fields["version"] = quoted
	return json.Marshal(fields)
}
