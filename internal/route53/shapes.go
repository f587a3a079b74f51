package route53

import "encoding/xml"

// xmlns is the namespace of every Route 53 response document.
const xmlns = "https://route53.amazonaws.com/doc/2013-04-01/"

// The response documents, as the model (route53 2013-04-01) names their
// members.

type hostedZone struct {
	ID                     string         `xml:"Id"`
	Name                   string         `xml:"Name"`
	CallerReference        string         `xml:"CallerReference"`
	Config                 zoneConfig     `xml:"Config"`
	ResourceRecordSetCount int64          `xml:"ResourceRecordSetCount"`
	LinkedService          *linkedService `xml:"LinkedService,omitempty"`
}

type zoneConfig struct {
	Comment     string `xml:"Comment,omitempty"`
	PrivateZone bool   `xml:"PrivateZone"`
}

type linkedService struct {
	ServicePrincipal string `xml:"ServicePrincipal"`
	Description      string `xml:"Description,omitempty"`
}

type vpc struct {
	VPCRegion string `xml:"VPCRegion"`
	VPCId     string `xml:"VPCId"`
}

type delegationSet struct {
	NameServers []string `xml:"NameServers>NameServer"`
}

type getHostedZoneResponse struct {
	XMLName       xml.Name       `xml:"GetHostedZoneResponse"`
	Xmlns         string         `xml:"xmlns,attr"`
	HostedZone    hostedZone     `xml:"HostedZone"`
	DelegationSet *delegationSet `xml:"DelegationSet,omitempty"`
	VPCs          []vpc          `xml:"VPCs>VPC,omitempty"`
}

// markerPage is how the List operations that take a Marker page, after
// their items.
type markerPage struct {
	Marker      string `xml:"Marker"`
	IsTruncated bool   `xml:"IsTruncated"`
	NextMarker  string `xml:"NextMarker,omitempty"`
	MaxItems    string `xml:"MaxItems"`
}

type listHostedZonesResponse struct {
	XMLName     xml.Name     `xml:"ListHostedZonesResponse"`
	Xmlns       string       `xml:"xmlns,attr"`
	HostedZones []hostedZone `xml:"HostedZones>HostedZone"`
	markerPage
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name     `xml:"ListHostedZonesByNameResponse"`
	Xmlns            string       `xml:"xmlns,attr"`
	HostedZones      []hostedZone `xml:"HostedZones>HostedZone"`
	DNSName          string       `xml:"DNSName,omitempty"`
	HostedZoneID     string       `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool         `xml:"IsTruncated"`
	NextDNSName      string       `xml:"NextDNSName,omitempty"`
	NextHostedZoneID string       `xml:"NextHostedZoneId,omitempty"`
	MaxItems         string       `xml:"MaxItems"`
}

type getHostedZoneCountResponse struct {
	XMLName         xml.Name `xml:"GetHostedZoneCountResponse"`
	Xmlns           string   `xml:"xmlns,attr"`
	HostedZoneCount int64    `xml:"HostedZoneCount"`
}

type resourceRecordSet struct {
	Name             string   `xml:"Name"`
	Type             string   `xml:"Type"`
	SetIdentifier    string   `xml:"SetIdentifier,omitempty"`
	Weight           *int64   `xml:"Weight,omitempty"`
	MultiValueAnswer *bool    `xml:"MultiValueAnswer,omitempty"`
	TTL              *int64   `xml:"TTL,omitempty"`
	ResourceRecords  []string `xml:"ResourceRecords>ResourceRecord>Value"`
	HealthCheckID    string   `xml:"HealthCheckId,omitempty"`
}

type listResourceRecordSetsResponse struct {
	XMLName              xml.Name            `xml:"ListResourceRecordSetsResponse"`
	Xmlns                string              `xml:"xmlns,attr"`
	ResourceRecordSets   []resourceRecordSet `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated          bool                `xml:"IsTruncated"`
	NextRecordName       string              `xml:"NextRecordName,omitempty"`
	NextRecordType       string              `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier string              `xml:"NextRecordIdentifier,omitempty"`
	MaxItems             string              `xml:"MaxItems"`
}

type healthCheckConfig struct {
	IPAddress        string `xml:"IPAddress,omitempty"`
	Port             int    `xml:"Port,omitempty"`
	Type             string `xml:"Type"`
	ResourcePath     string `xml:"ResourcePath,omitempty"`
	RequestInterval  int    `xml:"RequestInterval"`
	FailureThreshold int    `xml:"FailureThreshold"`
	MeasureLatency   bool   `xml:"MeasureLatency"`
	Inverted         bool   `xml:"Inverted"`
	Disabled         bool   `xml:"Disabled"`
	EnableSNI        *bool  `xml:"EnableSNI,omitempty"`
}

type healthCheck struct {
	ID                 string            `xml:"Id"`
	CallerReference    string            `xml:"CallerReference"`
	LinkedService      *linkedService    `xml:"LinkedService,omitempty"`
	HealthCheckConfig  healthCheckConfig `xml:"HealthCheckConfig"`
	HealthCheckVersion int64             `xml:"HealthCheckVersion"`
}

type getHealthCheckResponse struct {
	XMLName     xml.Name    `xml:"GetHealthCheckResponse"`
	Xmlns       string      `xml:"xmlns,attr"`
	HealthCheck healthCheck `xml:"HealthCheck"`
}

type listHealthChecksResponse struct {
	XMLName      xml.Name      `xml:"ListHealthChecksResponse"`
	Xmlns        string        `xml:"xmlns,attr"`
	HealthChecks []healthCheck `xml:"HealthChecks>HealthCheck"`
	markerPage
}

type getHealthCheckCountResponse struct {
	XMLName          xml.Name `xml:"GetHealthCheckCountResponse"`
	Xmlns            string   `xml:"xmlns,attr"`
	HealthCheckCount int64    `xml:"HealthCheckCount"`
}

type observation struct {
	Region       string       `xml:"Region"`
	IPAddress    string       `xml:"IPAddress"`
	StatusReport statusReport `xml:"StatusReport"`
}

type statusReport struct {
	Status      string `xml:"Status"`
	CheckedTime string `xml:"CheckedTime,omitempty"`
}

type getHealthCheckStatusResponse struct {
	XMLName      xml.Name      `xml:"GetHealthCheckStatusResponse"`
	Xmlns        string        `xml:"xmlns,attr"`
	Observations []observation `xml:"HealthCheckObservations>HealthCheckObservation"`
}

// errorResponse is Route 53's error document.
type errorResponse struct {
	XMLName   xml.Name  `xml:"ErrorResponse"`
	Xmlns     string    `xml:"xmlns,attr"`
	Error     errorBody `xml:"Error"`
	RequestID string    `xml:"RequestId"`
}

type errorBody struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}
