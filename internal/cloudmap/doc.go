// Package cloudmap holds the shapes of the AWS Cloud Map API
// (servicediscovery 2017-03-14): the request and response structures with
// the model's member names as JSON keys, the enum values, and validators
// that check every constraint the model states.
//
// The shapes and validators in shapes_gen.go are generated from
// service-2.json (botocore's model, Apache-2.0) by tools/modelgen; the
// rules the model only states in prose (which record type needs which
// attribute, which configurations exclude each other) live in the
// registry, which knows the state they depend on.
//
// # Basics
//
// Decode a request body into its input structure, then call Validate:
//
//	var in cloudmap.CreateServiceRequest
//	_ = json.Unmarshal(body, &in)
//	if err := cloudmap.Validate(&in); err != nil {
//		// err is a *ValidationError; its message reads like AWS's.
//	}
//
// # Caveats
//
// A required string member that is empty is reported as missing, as is a
// required structure, list or map that is absent. Lengths are counted in
// characters (runes), as AWS counts them.
package cloudmap

//go:generate go run ../../tools/modelgen -model service-2.json -out shapes_gen.go
