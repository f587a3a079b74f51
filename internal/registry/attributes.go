package registry

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// The attributes Cloud Map reserves.
const (
	AttrIPv4       = "AWS_INSTANCE_IPV4"
	AttrIPv6       = "AWS_INSTANCE_IPV6"
	AttrPort       = "AWS_INSTANCE_PORT"
	AttrCNAME      = "AWS_INSTANCE_CNAME"
	AttrAlias      = "AWS_ALIAS_DNS_NAME"
	AttrEC2        = "AWS_EC2_INSTANCE_ID"
	AttrInitHealth = "AWS_INIT_HEALTH_STATUS"
)

const (
	maxInstanceAttributes = 30
	maxAttributeChars     = 5000
)

// checkInstanceAttributes applies the documented rules on RegisterInstance
// attributes: their number and size, the form of the reserved ones, and
// the ones the service's DNS records and health check need.
func checkInstanceAttributes(attrs map[string]string, svc *svcRecord, ns *nsRecord) error {
	if err := checkAttributeSize(attrs); err != nil {
		return err
	}
	if err := checkReservedAttributes(attrs, svc, ns); err != nil {
		return err
	}
	records := ""
	if svc.DNSConfig != nil {
		records, _ = recordSet(svc.DNSConfig.DnsRecords)
	}
	if _, ok := attrs[AttrAlias]; ok {
		return checkAlias(attrs, svc, records)
	}
	return checkRecordAttributes(attrs, svc, records)
}

// checkAttributeSize refuses more attributes, or more characters in
// them, than AWS allows.
func checkAttributeSize(attrs map[string]string) error {
	if len(attrs) > maxInstanceAttributes {
		return invalid("An instance can have at most %d attributes; the request has %d", maxInstanceAttributes, len(attrs))
	}
	total := 0
	for k, v := range attrs {
		total += len(k) + len(v)
	}
	if total > maxAttributeChars {
		return invalid("The attributes' keys and values together may be at most %d characters; the request has %d", maxAttributeChars, total)
	}
	return nil
}

// checkReservedAttributes checks the form of the AWS_ attributes that are
// set, and where AWS_INIT_HEALTH_STATUS and AWS_EC2_INSTANCE_ID may be.
func checkReservedAttributes(attrs map[string]string, svc *svcRecord, ns *nsRecord) error {
	if v4, ok := attrs[AttrIPv4]; ok {
		if a, err := netip.ParseAddr(v4); err != nil || !a.Is4() {
			return invalid("%s must be an IPv4 address such as 192.0.2.44, not %q", AttrIPv4, v4)
		}
	}
	if v6, ok := attrs[AttrIPv6]; ok {
		if a, err := netip.ParseAddr(v6); err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return invalid("%s must be an IPv6 address such as 2001:0db8:85a3::8a2e:0370:7334, not %q", AttrIPv6, v6)
		}
	}
	if port, ok := attrs[AttrPort]; ok {
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 || strconv.Itoa(p) != port {
			return invalid("%s must be a port number from 0 to 65535, not %q", AttrPort, port)
		}
	}
	if cname, ok := attrs[AttrCNAME]; ok && !validDomain(cname) {
		return invalid("%s must be a domain name such as www.example.com, not %q", AttrCNAME, cname)
	}
	if init, ok := attrs[AttrInitHealth]; ok {
		if init != cloudmap.CustomHealthStatusHealthy && init != cloudmap.CustomHealthStatusUnhealthy {
			return invalid("%s must be HEALTHY or UNHEALTHY, not %q", AttrInitHealth, init)
		}
		if svc.HealthCheckCustomConfig == nil {
			return invalid("%s can be set only for a service with a HealthCheckCustomConfig", AttrInitHealth)
		}
	}
	if _, ok := attrs[AttrEC2]; ok {
		if ns.Type != cloudmap.NamespaceTypeHttp {
			return invalid("%s can be used only in HTTP namespaces", AttrEC2)
		}
		for k := range attrs {
			if k != AttrEC2 && k != AttrInitHealth {
				return invalid("With %s the only other attribute allowed is %s, not %s", AttrEC2, AttrInitHealth, k)
			}
		}
	}
	return nil
}

// checkAlias checks an instance with AWS_ALIAS_DNS_NAME: a WEIGHTED
// service of A and/or AAAA records (records, see recordSet), and no
// AWS_INSTANCE_ attribute.
func checkAlias(attrs map[string]string, svc *svcRecord, records string) error {
	if records != "A" && records != "AAAA" && records != "A+AAAA" {
		return invalid("%s requires a service whose records are A, AAAA or both (no SRV or CNAME)", AttrAlias)
	}
	if svc.DNSConfig.RoutingPolicy != cloudmap.RoutingPolicyWeighted {
		return invalid("%s requires a service with the WEIGHTED routing policy", AttrAlias)
	}
	for k := range attrs {
		if strings.HasPrefix(k, "AWS_INSTANCE_") {
			return invalid("With %s, no AWS_INSTANCE_ attribute may be set (%s is)", AttrAlias, k)
		}
	}
	if !validDomain(attrs[AttrAlias]) {
		return invalid("%s must be a load balancer's DNS name, not %q", AttrAlias, attrs[AttrAlias])
	}
	return nil
}

// checkRecordAttributes checks that each record type the service defines
// (records, see recordSet) has its attributes. A and AAAA together take
// either address (the developer guide: "an IPv4 IP address, an IPv6 IP
// address, or both"); SRV takes a port and either address, for the A/AAAA
// records at its target host. A health check needs the port.
func checkRecordAttributes(attrs map[string]string, svc *svcRecord, records string) error {
	_, hasV4 := attrs[AttrIPv4]
	_, hasV6 := attrs[AttrIPv6]
	_, hasPort := attrs[AttrPort]
	_, hasCNAME := attrs[AttrCNAME]
	_, hasEC2 := attrs[AttrEC2]
	types := strings.Split(records, "+")
	hasType := func(t string) bool { return slices.Contains(types, t) }
	switch {
	case hasType("A") && hasType("AAAA"):
		if !hasV4 && !hasV6 {
			return invalid("The service %s has A and AAAA records, so %s or %s is required", svc.ID, AttrIPv4, AttrIPv6)
		}
	case hasType("A"):
		if !hasV4 {
			return invalid("The service %s has an A record, so %s is required", svc.ID, AttrIPv4)
		}
	case hasType("AAAA"):
		if !hasV6 {
			return invalid("The service %s has an AAAA record, so %s is required", svc.ID, AttrIPv6)
		}
	}
	if hasType("SRV") {
		if !hasPort {
			return invalid("The service %s has an SRV record, so %s is required", svc.ID, AttrPort)
		}
		if !hasV4 && !hasV6 {
			return invalid("The service %s has an SRV record, so %s or %s is required", svc.ID, AttrIPv4, AttrIPv6)
		}
	}
	if hasType("CNAME") && !hasCNAME {
		return invalid("The service %s has a CNAME record, so %s is required", svc.ID, AttrCNAME)
	}
	if svc.HealthCheckConfig != nil && !hasPort && !hasEC2 {
		return invalid("The service %s has a health check, so %s is required", svc.ID, AttrPort)
	}
	return nil
}

// validDomain reports whether s is a DNS name: labels of 1–63 letters,
// digits, hyphens or underscores, 253 characters in all, an optional final
// dot.
func validDomain(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, ch := range label {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return false
			}
		}
	}
	return true
}
