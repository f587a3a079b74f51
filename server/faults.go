package server

import (
	"bytes"
	"fmt"
	"os"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/cairn-dev/cairn/internal/fault"
)

// loadFaults adds to set, for account, the faults of the file at path:
// JSON or YAML with a Faults list of what `cairn fault add` takes.
func loadFaults(set *fault.Set, path, account string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var file struct {
		Faults []yaml.Node `yaml:"Faults"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	allowed := map[string]bool{}
	t := reflect.TypeOf(fault.Fault{})
	for i := range t.NumField() {
		allowed[t.Field(i).Tag.Get("yaml")] = true
	}
	for _, n := range file.Faults {
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !allowed[k.Value] || k.Value == "Id" || k.Value == "Account" {
				return fmt.Errorf("%s:%d:%d: unknown member %q of a fault", path, k.Line, k.Column, k.Value)
			}
		}
		var f fault.Fault
		if err := n.Decode(&f); err != nil {
			return fmt.Errorf("%s:%d:%d: %v", path, n.Line, n.Column, err)
		}
		if _, err := set.Add(account, f); err != nil {
			return fmt.Errorf("%s:%d:%d: %v", path, n.Line, n.Column, err)
		}
	}
	return nil
}
