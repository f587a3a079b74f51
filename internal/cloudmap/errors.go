package cloudmap

import (
	_ "embed"
	"encoding/json"
)

//go:embed service-2.json
var model []byte

// OperationErrors returns, for every operation, the names of the errors
// the model says it may return.
func OperationErrors() map[string][]string {
	var m struct {
		Operations map[string]struct {
			Errors []struct {
				Shape string `json:"shape"`
			} `json:"errors"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(model, &m); err != nil {
		panic("cloudmap: the embedded model does not parse: " + err.Error())
	}
	out := make(map[string][]string, len(m.Operations))
	for name, op := range m.Operations {
		for _, e := range op.Errors {
			out[name] = append(out[name], e.Shape)
		}
	}
	return out
}
