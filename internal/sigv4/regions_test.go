package sigv4

import (
	"slices"
	"testing"
)

func TestAWSRegions(t *testing.T) {
	all := AWSRegions()
	for _, tc := range []struct {
		region, partition string
	}{
		{"us-east-1", "aws"}, {"eu-west-3", "aws"}, {"ap-southeast-7", "aws"},
		{"cn-north-1", "aws-cn"}, {"us-gov-west-1", "aws-us-gov"},
		{"zz-fake-99", ""}, {"us-iso-east-1", ""}, {"aws-global", ""}, {"", ""}, {"US-EAST-1", ""},
	} {
		if got := awsPartition(tc.region); got != tc.partition {
			t.Errorf("awsPartition(%q) = %q, want %q", tc.region, got, tc.partition)
		}
		if got := slices.Contains(all, tc.region); got != (tc.partition != "") {
			t.Errorf("AWSRegions() holds %q: %v", tc.region, got)
		}
	}
	// A fresh slice each time: changing one changes nothing else.
	all[0] = "changed"
	if AWSRegions()[0] == "changed" {
		t.Error("AWSRegions shares its slice")
	}
}

func TestRegionsList(t *testing.T) {
	v := newVerifier()
	v.Regions = []string{"edge-1"}
	for _, tc := range []struct {
		region string
		ok     bool
	}{{"edge-1", true}, {"us-east-1", false}, {"edge-2", false}} {
		req := signed(t, signOpts{id: idA, region: tc.region})
		_, _, err := v.Verify(req, []byte(discoverBody))
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.region, err)
		}
		if !tc.ok {
			wantCode(t, err, CodeInvalidSignature)
		}
	}
}
