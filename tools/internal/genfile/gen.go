// Package genfile is what cairn's code generators (tools/modelgen,
// tools/regionsgen) share: reading the JSON data they generate from, and
// writing the Go source they make, gofmt'ed, so that a generated file
// differs from the last only where its input did.
package genfile

import (
	"encoding/json"
	"fmt"
	"go/format"
	"os"
)

// ReadJSON decodes the JSON file at path into v. Its errors name the file.
func ReadJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// Format is src formatted as gofmt does; an error means the generator
// wrote something that is not Go.
func Format(src []byte) ([]byte, error) {
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("the generated code does not parse: %w", err)
	}
	return out, nil
}

// Write formats src (see Format) and writes it to path.
func Write(path string, src []byte) error {
	out, err := Format(src)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
