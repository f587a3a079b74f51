package cloudmap

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"
)

// shapes are the input and output structures of every operation, by name.
// Go cannot find a type by its name, so the list is by hand; the tests
// below check it against Operations and against the model.
// UpdateInstanceCustomHealthStatus has no output in the model.
var shapes = map[string]struct{ in, out any }{
	"CreateHttpNamespace":              {&CreateHttpNamespaceRequest{}, &CreateHttpNamespaceResponse{}},
	"CreatePrivateDnsNamespace":        {&CreatePrivateDnsNamespaceRequest{}, &CreatePrivateDnsNamespaceResponse{}},
	"CreatePublicDnsNamespace":         {&CreatePublicDnsNamespaceRequest{}, &CreatePublicDnsNamespaceResponse{}},
	"CreateService":                    {&CreateServiceRequest{}, &CreateServiceResponse{}},
	"DeleteNamespace":                  {&DeleteNamespaceRequest{}, &DeleteNamespaceResponse{}},
	"DeleteService":                    {&DeleteServiceRequest{}, &DeleteServiceResponse{}},
	"DeleteServiceAttributes":          {&DeleteServiceAttributesRequest{}, &DeleteServiceAttributesResponse{}},
	"DeregisterInstance":               {&DeregisterInstanceRequest{}, &DeregisterInstanceResponse{}},
	"DiscoverInstances":                {&DiscoverInstancesRequest{}, &DiscoverInstancesResponse{}},
	"DiscoverInstancesRevision":        {&DiscoverInstancesRevisionRequest{}, &DiscoverInstancesRevisionResponse{}},
	"GetInstance":                      {&GetInstanceRequest{}, &GetInstanceResponse{}},
	"GetInstancesHealthStatus":         {&GetInstancesHealthStatusRequest{}, &GetInstancesHealthStatusResponse{}},
	"GetNamespace":                     {&GetNamespaceRequest{}, &GetNamespaceResponse{}},
	"GetOperation":                     {&GetOperationRequest{}, &GetOperationResponse{}},
	"GetService":                       {&GetServiceRequest{}, &GetServiceResponse{}},
	"GetServiceAttributes":             {&GetServiceAttributesRequest{}, &GetServiceAttributesResponse{}},
	"ListInstances":                    {&ListInstancesRequest{}, &ListInstancesResponse{}},
	"ListNamespaces":                   {&ListNamespacesRequest{}, &ListNamespacesResponse{}},
	"ListOperations":                   {&ListOperationsRequest{}, &ListOperationsResponse{}},
	"ListServices":                     {&ListServicesRequest{}, &ListServicesResponse{}},
	"ListTagsForResource":              {&ListTagsForResourceRequest{}, &ListTagsForResourceResponse{}},
	"RegisterInstance":                 {&RegisterInstanceRequest{}, &RegisterInstanceResponse{}},
	"TagResource":                      {&TagResourceRequest{}, &TagResourceResponse{}},
	"UntagResource":                    {&UntagResourceRequest{}, &UntagResourceResponse{}},
	"UpdateHttpNamespace":              {&UpdateHttpNamespaceRequest{}, &UpdateHttpNamespaceResponse{}},
	"UpdateInstanceCustomHealthStatus": {&UpdateInstanceCustomHealthStatusRequest{}, nil},
	"UpdatePrivateDnsNamespace":        {&UpdatePrivateDnsNamespaceRequest{}, &UpdatePrivateDnsNamespaceResponse{}},
	"UpdatePublicDnsNamespace":         {&UpdatePublicDnsNamespaceRequest{}, &UpdatePublicDnsNamespaceResponse{}},
	"UpdateService":                    {&UpdateServiceRequest{}, &UpdateServiceResponse{}},
	"UpdateServiceAttributes":          {&UpdateServiceAttributesRequest{}, &UpdateServiceAttributesResponse{}},
}

// newInput returns a new, empty input structure of op.
func newInput(op string) Validatable {
	return reflect.New(reflect.TypeOf(shapes[op].in).Elem()).Interface().(Validatable)
}

type modelFile struct {
	Operations map[string]struct {
		Input  *struct{ Shape string } `json:"input"`
		Output *struct{ Shape string } `json:"output"`
	} `json:"operations"`
	Shapes map[string]struct {
		Type    string                            `json:"type"`
		Members map[string]struct{ Shape string } `json:"members"`
	} `json:"shapes"`
}

func loadModel(t *testing.T) modelFile {
	t.Helper()
	raw, err := os.ReadFile("service-2.json")
	if err != nil {
		t.Fatal(err)
	}
	var m modelFile
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOperationsHaveShapes(t *testing.T) {
	if len(Operations) != 30 {
		t.Errorf("%d operations, want the model's 30", len(Operations))
	}
	if !sort.StringsAreSorted(Operations[:]) {
		t.Errorf("Operations are not sorted: %v", Operations)
	}
	seen := map[string]bool{}
	for _, op := range Operations {
		seen[op] = true
		s, ok := shapes[op]
		if !ok {
			t.Errorf("%s: no input/output structures in the test's list", op)
			continue
		}
		if name := reflect.TypeOf(s.in).Elem().Name(); name != op+"Request" {
			t.Errorf("%s: input structure %s, want %sRequest", op, name, op)
		}
		if _, ok := s.in.(Validatable); !ok {
			t.Errorf("%s: input %T has no validator", op, s.in)
		}
		if s.out == nil {
			if op != "UpdateInstanceCustomHealthStatus" {
				t.Errorf("%s: no output structure", op)
			}
			continue
		}
		if name := reflect.TypeOf(s.out).Elem().Name(); name != op+"Response" {
			t.Errorf("%s: output structure %s, want %sResponse", op, name, op)
		}
	}
	for op := range shapes {
		if !seen[op] {
			t.Errorf("%s is in the test's list but not in Operations", op)
		}
	}
}

// The structures match the model: the same operations, the input and
// output shape names, and one JSON field per member, named as the member.
func TestShapesMatchModel(t *testing.T) {
	m := loadModel(t)
	if len(m.Operations) != len(Operations) {
		t.Errorf("model has %d operations, Operations %d", len(m.Operations), len(Operations))
	}
	for _, op := range Operations {
		mo, ok := m.Operations[op]
		if !ok {
			t.Errorf("%s is not in the model", op)
			continue
		}
		s := shapes[op]
		check := func(ref *struct{ Shape string }, v any) {
			if ref == nil {
				if v != nil {
					t.Errorf("%s: the model has no output, the list has %T", op, v)
				}
				return
			}
			typ := reflect.TypeOf(v).Elem()
			if typ.Name() != ref.Shape {
				t.Errorf("%s: structure %s, model shape %s", op, typ.Name(), ref.Shape)
			}
			members := m.Shapes[ref.Shape].Members
			fields := map[string]bool{}
			for i := range typ.NumField() {
				tag := typ.Field(i).Tag.Get("json")
				name, _, _ := bytes.Cut([]byte(tag), []byte(","))
				fields[string(name)] = true
				if _, ok := members[string(name)]; !ok {
					t.Errorf("%s.%s: JSON name %q is not a member of the model", typ.Name(), typ.Field(i).Name, name)
				}
			}
			for member := range members {
				if !fields[member] {
					t.Errorf("%s: member %s has no field", typ.Name(), member)
				}
			}
		}
		check(mo.Input, s.in)
		check(mo.Output, s.out)
	}
}

// Every documented example decodes into its input structure with no
// unknown member, and is valid.
func TestExamplesDecodeAndValidate(t *testing.T) {
	for op, bodies := range exampleInputs {
		if _, ok := shapes[op]; !ok {
			t.Errorf("example for unknown operation %s", op)
			continue
		}
		for _, body := range bodies {
			in := newInput(op)
			dec := json.NewDecoder(bytes.NewReader([]byte(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(in); err != nil {
				t.Errorf("%s %s: %v", op, body, err)
				continue
			}
			if err := Validate(in); err != nil {
				t.Errorf("%s %s: %v", op, body, err)
			}
			// What decodes encodes back to the same members.
			out, err := json.Marshal(in)
			if err != nil {
				t.Errorf("%s: marshal: %v", op, err)
				continue
			}
			var a, b any
			_ = json.Unmarshal([]byte(body), &a)
			_ = json.Unmarshal(out, &b)
			if !reflect.DeepEqual(a, b) && !onlyEmptyStrings(a, b) {
				t.Errorf("%s: round trip\n in  %s\n out %s", op, body, out)
			}
		}
	}
}

// onlyEmptyStrings reports whether a and b differ only by members set to
// "" in a (which omitempty drops), as UpdaterRequestId is in two examples.
func onlyEmptyStrings(a, b any) bool {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if !ok1 || !ok2 {
		return reflect.DeepEqual(a, b)
	}
	for k, av := range am {
		bv, ok := bm[k]
		if !ok {
			if av != "" {
				return false
			}
			continue
		}
		if !onlyEmptyStrings(av, bv) {
			return false
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			return false
		}
	}
	return true
}
