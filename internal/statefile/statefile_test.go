package statefile

import (
	"reflect"
	"strings"
	"testing"
)

const yamlFile = `# a seed for tests
Namespaces:
  - Id: ns-aaaaaaaaaaaaaaaa
    Name: shop
    Type: HTTP
    Tags: [{Key: team, Value: web}]
    Services:
      - Name: cart
        HealthCheckCustomConfig: {}
        Attributes: {tier: gold}
        Instances:
          - Id: cart-1
            Attributes: {AWS_INSTANCE_IPV4: 10.0.0.1, AWS_INSTANCE_PORT: 8080}
            HealthStatus: UNHEALTHY
  - Name: corp.test
    Type: DNS_PRIVATE
    Vpc: vpc-1
    SOATTL: 60
    Services:
      - Id: srv-bbbbbbbbbbbbbbbb
        Name: web
        DnsConfig: {DnsRecords: [{Type: A, TTL: 10}]}
`

const jsonFile = `{"Namespaces": [
 {"Id": "ns-aaaaaaaaaaaaaaaa", "Name": "shop", "Type": "HTTP", "Tags": [{"Key": "team", "Value": "web"}],
  "Services": [{"Name": "cart", "HealthCheckCustomConfig": {}, "Attributes": {"tier": "gold"},
   "Instances": [{"Id": "cart-1", "Attributes": {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "8080"}, "HealthStatus": "UNHEALTHY"}]}]},
 {"Name": "corp.test", "Type": "DNS_PRIVATE", "Vpc": "vpc-1", "SOATTL": 60,
  "Services": [{"Id": "srv-bbbbbbbbbbbbbbbb", "Name": "web", "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 10}]}}]}
]}`

func TestYAMLAndJSONAreOneFormat(t *testing.T) {
	y, err := Parse("seed.yaml", []byte(yamlFile))
	if err != nil {
		t.Fatal(err)
	}
	j, err := Parse("seed.json", []byte(jsonFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(y.Namespaces) != 2 || len(y.Namespaces[0].Services[0].Instances) != 1 {
		t.Fatalf("parsed %+v", y)
	}
	inst := y.Namespaces[0].Services[0].Instances[0]
	if inst.Attributes["AWS_INSTANCE_PORT"] != "8080" || inst.HealthStatus != "UNHEALTHY" || inst.Pos != "seed.yaml:12:13" {
		t.Fatalf("instance %+v", inst)
	}
	if *y.Namespaces[1].SOATTL != 60 || y.Namespaces[1].Services[0].DnsConfig.DnsRecords[0].TTL == nil {
		t.Fatalf("namespace %+v", y.Namespaces[1])
	}
	// Positions differ; everything else is the same.
	for i := range y.Namespaces {
		y.Namespaces[i].Pos, j.Namespaces[i].Pos = "", ""
		for k := range y.Namespaces[i].Services {
			y.Namespaces[i].Services[k].Pos, j.Namespaces[i].Services[k].Pos = "", ""
			for m := range y.Namespaces[i].Services[k].Instances {
				y.Namespaces[i].Services[k].Instances[m].Pos, j.Namespaces[i].Services[k].Instances[m].Pos = "", ""
			}
		}
	}
	if !reflect.DeepEqual(y, j) {
		t.Fatalf("YAML and JSON of the same state differ:\n%+v\n%+v", y, j)
	}
}

func TestBadFilesSayWhereAndWhat(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "f: the file is empty"},
		{"syntax", "Namespaces: [\n  {Name: a\n", "f: line "},
		{"json syntax", `{"Namespaces": [}`, "f: "},
		{"not an object", "- a\n- b\n", "f:1:1: expected an object"},
		{"unknown top", "Namespace: []\n", `f:1:1: unknown member "Namespace"`},
		{"namespaces not a list", "Namespaces: 3\n", "f:1:13: Namespaces must be a list"},
		{"unknown member", "Namespaces:\n  - Name: a\n    Typ: HTTP\n", `f:3:5: unknown member "Typ"`},
		{"wrong type", "Namespaces:\n  - Name: a\n    Type: HTTP\n    SOATTL: soon\n", "f:4:13: SOATTL must be a whole number, not a string"},
		{"nested wrong type", "Namespaces:\n  - Name: a\n    Type: DNS_PRIVATE\n    Services:\n      - Name: s\n        DnsConfig: {DnsRecords: [{Type: A, TTL: ten}]}\n",
			"f:6:20: DnsConfig.DnsRecords.TTL must be a whole number, not a string"},
		{"instance not an object", "Namespaces:\n  - Name: a\n    Type: HTTP\n    Services:\n      - Name: s\n        Instances: [x]\n", `f:6:21: expected an object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f", []byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(yamlFile))
	f.Add([]byte(jsonFile))
	f.Add([]byte("Namespaces: [{Name: a, Services: [{Instances: [{Id: x}]}]}]"))
	f.Add([]byte("a: &x [*x]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse("fuzz", data)
		if err == nil && st == nil {
			t.Fatal("no state and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz") {
			t.Fatalf("an error that does not name the file: %v", err)
		}
	})
}
