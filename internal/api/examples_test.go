package api_test

import (
	"encoding/json"
	"os"
)

// exampleInputs are the request bodies of the documented examples, by
// operation, shared with the cloudmap package's tests.
var exampleInputs = func() map[string][]string {
	b, err := os.ReadFile("../cloudmap/testdata/example-inputs.json")
	if err != nil {
		panic("api: read the example inputs: " + err.Error())
	}
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		panic("api: decode the example inputs: " + err.Error())
	}
	return m
}()
