package api_test

// exampleInputs are the request bodies of the documented examples of
// servicediscovery 2017-03-14, by operation: those of botocore's
// examples-1.json, then the other ones of the Smithy model's @examples.
var exampleInputs = map[string][]string{
	"CreateHttpNamespace": {
		`{"CreatorRequestId":"example-creator-request-id-0001","Description":"Example.com AWS Cloud Map HTTP Namespace","Name":"example-http.com"}`,
	},
	"CreatePrivateDnsNamespace": {
		`{"CreatorRequestId":"eedd6892-50f3-41b2-8af9-611d6e1d1a8c","Name":"example.com","Vpc":"vpc-1c56417b"}`,
	},
	"CreatePublicDnsNamespace": {
		`{"CreatorRequestId":"example-creator-request-id-0003","Description":"Example.com AWS Cloud Map Public DNS Namespace","Name":"example-public-dns.com"}`,
	},
	"CreateService": {
		`{"CreatorRequestId":"567c1193-6b00-4308-bd57-ad38a8822d25","DnsConfig":{"DnsRecords":[{"TTL":60,"Type":"A"}],"NamespaceId":"ns-ylexjili4cdxy3xm","RoutingPolicy":"MULTIVALUE"},"Name":"myservice","NamespaceId":"ns-ylexjili4cdxy3xm"}`,
		`{"Description":"Example service using namespace ARN","DnsConfig":{"DnsRecords":[{"TTL":300,"Type":"A"}],"RoutingPolicy":"MULTIVALUE"},"Name":"example-service","NamespaceId":"arn:aws:servicediscovery:us-west-2:123456789012:namespace/ns-abcd1234xmpl5678"}`,
	},
	"DeleteNamespace": {
		`{"Id":"ns-ylexjili4cdxy3xm"}`,
		`{"Id":"arn:aws:servicediscovery:us-west-2:123456789012:namespace/ns-abcd1234xmpl5678"}`,
	},
	"DeleteService": {
		`{"Id":"srv-p5zdwlg5uvvzjita"}`,
		`{"Id":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678"}`,
	},
	"DeleteServiceAttributes": {
		`{"Attributes":["port"],"ServiceId":"srv-e4anhexample0004"}`,
		`{"Attributes":["Port"],"ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678"}`,
	},
	"DeregisterInstance": {
		`{"InstanceId":"myservice-53","ServiceId":"srv-p5zdwlg5uvvzjita"}`,
		`{"InstanceId":"i-abcd1234xmpl5678","ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678"}`,
	},
	"DiscoverInstances": {
		`{"HealthStatus":"ALL","MaxResults":10,"NamespaceName":"example.com","ServiceName":"myservice"}`,
		`{"NamespaceName":"example-shared-namespace","OwnerAccount":"123456789012","ServiceName":"shared-namespace-service"}`,
	},
	"DiscoverInstancesRevision": {
		`{"NamespaceName":"example-shared-namespace","OwnerAccount":"123456789012","ServiceName":"shared-service"}`,
		`{"NamespaceName":"example-namespace","ServiceName":"example-service"}`,
	},
	"GetInstance": {
		`{"InstanceId":"i-abcd1234","ServiceId":"srv-e4anhexample0004"}`,
		`{"InstanceId":"i-abcd1234","ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-e4anhexample0004"}`,
	},
	"GetInstancesHealthStatus": {
		`{"ServiceId":"srv-e4anhexample0004"}`,
		`{"ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-e4anhexample0004"}`,
	},
	"GetNamespace": {
		`{"Id":"ns-e4anhexample0004"}`,
	},
	"GetOperation": {
		`{"OperationId":"gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd"}`,
	},
	"GetService": {
		`{"Id":"srv-e4anhexample0004"}`,
		`{"Id":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678"}`,
	},
	"GetServiceAttributes": {
		`{"ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678"}`,
		`{"ServiceId":"srv-e4anhexample0004"}`,
	},
	"ListInstances": {
		`{"ServiceId":"srv-qzpwvt2tfqcegapy"}`,
		`{"ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-e4anhexample0004"}`,
	},
	"ListNamespaces": {
		`{}`,
		`{"Filters":[{"Name":"RESOURCE_OWNER","Values":["OTHER_ACCOUNTS"]}]}`,
	},
	"ListOperations": {
		`{"Filters":[{"Condition":"IN","Name":"STATUS","Values":["PENDING","SUCCESS"]}]}`,
	},
	"ListServices": {
		`{}`,
	},
	"ListTagsForResource": {
		`{"ResourceARN":"arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-ylexjili4cdxy3xm"}`,
	},
	"RegisterInstance": {
		`{"Attributes":{"AWS_INSTANCE_IPV4":"172.2.1.3","AWS_INSTANCE_PORT":"808"},"CreatorRequestId":"7a48a98a-72e6-4849-bfa7-1a458e030d7b","InstanceId":"myservice-53","ServiceId":"srv-p5zdwlg5uvvzjita"}`,
		`{"Attributes":{"AWS_INSTANCE_IPV4":"192.0.2.44","AWS_INSTANCE_PORT":"80"},"InstanceId":"i-abcd1234xmpl5678","ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678"}`,
	},
	"TagResource": {
		`{"ResourceARN":"arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-ylexjili4cdxy3xm","Tags":[{"Key":"Department","Value":"Engineering"},{"Key":"Project","Value":"Zeta"}]}`,
	},
	"UntagResource": {
		`{"ResourceARN":"arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-ylexjili4cdxy3xm","TagKeys":["Project","Department"]}`,
	},
	"UpdateHttpNamespace": {
		`{"Id":"ns-vh4nbmEXAMPLE","Namespace":{"Description":"The updated namespace description."}}`,
		`{"Id":"arn:aws:servicediscovery:us-west-2:123456789012:namespace/ns-vh4nbmexample","Namespace":{"Description":"Updated description for shared HTTP namespace."}}`,
	},
	"UpdateInstanceCustomHealthStatus": {
		`{"InstanceId":"i-abcd1234","ServiceId":"srv-e4anhexample0004","Status":"HEALTHY"}`,
		`{"InstanceId":"i-abcd1234xmpl5678","ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678","Status":"HEALTHY"}`,
	},
	"UpdatePrivateDnsNamespace": {
		`{"Id":"ns-bk3aEXAMPLE","Namespace":{"Description":"The updated namespace description."},"UpdaterRequestId":""}`,
		`{"Id":"arn:aws:servicediscovery:us-west-2:123456789012:namespace/ns-bk3aexample","Namespace":{"Description":"Updated description for shared private DNS namespace."}}`,
	},
	"UpdatePublicDnsNamespace": {
		`{"Id":"ns-bk3aEXAMPLE","Namespace":{"Description":"The updated namespace description."},"UpdaterRequestId":""}`,
		`{"Id":"arn:aws:servicediscovery:us-west-2:123456789012:namespace/ns-bk3aexample","Namespace":{"Description":"Updated description for shared public DNS namespace."}}`,
	},
	"UpdateService": {
		`{"Id":"srv-e4anhexample0004","Service":{"DnsConfig":{"DnsRecords":[{"TTL":60,"Type":"A"}]},"HealthCheckConfig":{"FailureThreshold":2,"ResourcePath":"/","Type":"HTTP"}}}`,
		`{"Id":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-e4anhexample0004","Service":{"Description":"Updated service description for shared namespace"}}`,
	},
	"UpdateServiceAttributes": {
		`{"Attributes":{"Port":"8080","Protocol":"HTTP"},"ServiceId":"arn:aws:servicediscovery:us-west-2:123456789012:service/srv-abcd1234xmpl5678"}`,
		`{"Attributes":{"port":"80"},"ServiceId":"srv-e4anhexample0004"}`,
	},
}
