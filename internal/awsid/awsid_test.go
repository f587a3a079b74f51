package awsid

import (
	"fmt"
	"testing"
)

func TestIsAccountID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"000000000000", true},
		{"123456789012", true},
		{"", false},
		{"42", false},
		{"1234567890123", false},
		{"12345678901a", false},
		{"-12345678901", false},
		{"12345678901٣", false}, // a digit, but not an ASCII one
		{" 23456789012", false},
	}
	for _, tt := range tests {
		if got := IsAccountID(tt.in); got != tt.want {
			t.Errorf("IsAccountID(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsRegion(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"us-east-1", true},
		{"eu-west-3", true},
		{"us-gov-west-1", true},
		{"local", true},
		{"a", true},
		{"abcdefghijklmnopqrstuvwxyz-12345", true}, // 32
		{"abcdefghijklmnopqrstuvwxyz-123456", false},
		{"", false},
		{"US-EAST-1", false},
		{"Mars_1", false},
		{"us-east-1:", false},
		{"us east 1", false},
		{"us/east", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := IsRegion(tt.in); got != tt.want {
			t.Errorf("IsRegion(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzIsRegion(f *testing.F) {
	for _, s := range []string{"us-east-1", "", "Mars_1", "a:b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsRegion(s) {
			return
		}
		// A region goes into ARNs and store keys: it never holds their
		// separators, and is never long.
		for _, c := range s {
			if c == ':' || c == '/' || c > 0x7f {
				t.Fatalf("IsRegion(%q) = true, with %q in it", s, c)
			}
		}
		if len(s) > 32 {
			t.Fatalf("IsRegion(%q) = true, with %d bytes", s, len(s))
		}
	})
}

func Example() {
	for _, s := range []string{"111111111111", "1111"} {
		fmt.Printf("account %q: %v\n", s, IsAccountID(s))
	}
	for _, s := range []string{"eu-west-1", "EU_WEST"} {
		fmt.Printf("region %q: %v\n", s, IsRegion(s))
	}
	// Output:
	// account "111111111111": true
	// account "1111": false
	// region "eu-west-1": true
	// region "EU_WEST": false
}
