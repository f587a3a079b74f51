package cloudmap

import (
	"encoding/json"
	"os"
	"testing"
)

// exampleInputs are the request bodies of the documented examples of
// servicediscovery 2017-03-14, by operation: those of botocore's
// examples-1.json, then the other ones of the Smithy model's @examples.
// They live in testdata/example-inputs.json, which the API's tests read
// too.
var exampleInputs = loadExampleInputs()

func loadExampleInputs() map[string][]string {
	b, err := os.ReadFile("testdata/example-inputs.json")
	if err != nil {
		panic("cloudmap: read the example inputs: " + err.Error())
	}
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		panic("cloudmap: decode the example inputs: " + err.Error())
	}
	return m
}

func TestExampleInputsLoaded(t *testing.T) {
	if len(exampleInputs) < 20 {
		t.Fatalf("only %d operations have example inputs", len(exampleInputs))
	}
}
