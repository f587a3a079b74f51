"""cairn compatibility suite for boto3 (botocore).

Run by compat_test.go against a running cairn; see compat/README.md for the
environment it reads. Plain unittest, standard library and boto3 only:

    CAIRN_ENDPOINT=http://127.0.0.1:9080 python3 -m unittest -v test_boto3
"""

import os
import time
import unittest
import uuid

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

ENDPOINT = os.environ.get("CAIRN_ENDPOINT", "http://127.0.0.1:9080")
# An endpoint whose "data-" twin resolves (http://cairn.test:PORT with
# "127.0.0.1 cairn.test data-cairn.test" in /etc/hosts), when there is one.
DATA_ENDPOINT = os.environ.get("CAIRN_DATA_ENDPOINT", "")
AUTH = os.environ.get("CAIRN_AUTH") == "1"
PREFIX = os.environ.get("CAIRN_PREFIX", "py" + uuid.uuid4().hex[:6])
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
# The port health-checked instances point at: a target the harness runs
# (cairn never probes its own listeners when it verifies signatures).
API_PORT = int(os.environ.get("CAIRN_HEALTH_TARGET_PORT") or ENDPOINT.rsplit(":", 1)[1].rstrip("/"))
VPC = "vpc-0compat0000000001"


def client(endpoint=ENDPOINT, inject_host_prefix=False, **kw):
    """A servicediscovery client with the keys of the environment."""
    cfg = {"inject_host_prefix": inject_host_prefix, "retries": {"max_attempts": 2}}
    cfg.update(kw)
    return boto3.session.Session().client(
        "servicediscovery", endpoint_url=endpoint, region_name=REGION, config=Config(**cfg))


SD = client()


def wait_op(op_id, c=SD):
    """Polls GetOperation until the operation ends; returns it."""
    seen = []
    deadline = time.time() + 30
    while time.time() < deadline:
        op = c.get_operation(OperationId=op_id)["Operation"]
        seen.append(op["Status"])
        if op["Status"] in ("SUCCESS", "FAIL"):
            assert op["Status"] == "SUCCESS", op
            for s in seen:
                assert s in ("SUBMITTED", "PENDING", "SUCCESS"), seen
            return op
        time.sleep(0.1)
    raise AssertionError("operation %s did not finish: %s" % (op_id, seen))


def ids(instances):
    """Sorted IDs of DiscoverInstances' (InstanceId) or ListInstances' (Id) instances."""
    return sorted(i.get("InstanceId", i.get("Id")) for i in instances)


def pages(call, key, **kw):
    """Calls a List operation with MaxResults 1 until NextToken runs out;
    returns (items, number of pages)."""
    items, n, token = [], 0, None
    while True:
        args = dict(kw, MaxResults=1)
        if token:
            args["NextToken"] = token
        out = call(**args)
        n += 1
        assert len(out[key]) <= 1, out
        items.extend(out[key])
        token = out.get("NextToken")
        if not token:
            return items, n
        assert n < 100, "pagination does not end"


class Lifecycle(unittest.TestCase):
    """The whole lifecycle, in order, in one test: each step builds on the last."""

    maxDiff = None

    def test_lifecycle(self):
        ex = SD.exceptions
        L = PREFIX + "-lc"  # names of this test's namespaces start with it
        # -- namespaces of the three types, each waited for with GetOperation
        op = wait_op(SD.create_http_namespace(Name=L + "-http", Description="compat http",
                                              Tags=[{"Key": "team", "Value": "a"}])["OperationId"])
        self.assertEqual(op["Type"], "CREATE_NAMESPACE")
        ns_http = op["Targets"]["NAMESPACE"]
        ns_priv = wait_op(SD.create_private_dns_namespace(
            Name=L + "-private.internal", Vpc=VPC,
            Properties={"DnsProperties": {"SOA": {"TTL": 60}}})["OperationId"])["Targets"]["NAMESPACE"]
        ns_pub = wait_op(SD.create_public_dns_namespace(
            Name=L + "-public.example.com",
            Properties={"DnsProperties": {"SOA": {"TTL": 120}}})["OperationId"])["Targets"]["NAMESPACE"]
        got = {n: SD.get_namespace(Id=n)["Namespace"] for n in (ns_http, ns_priv, ns_pub)}
        self.assertEqual(got[ns_http]["Type"], "HTTP")
        self.assertEqual(got[ns_http]["Properties"]["HttpProperties"]["HttpName"], L + "-http")
        self.assertEqual(got[ns_priv]["Type"], "DNS_PRIVATE")
        self.assertEqual(got[ns_priv]["Properties"]["DnsProperties"]["SOA"]["TTL"], 60)
        self.assertTrue(got[ns_priv]["Properties"]["DnsProperties"]["HostedZoneId"])
        self.assertEqual(got[ns_pub]["Type"], "DNS_PUBLIC")
        self.assertEqual(got[ns_pub]["Name"], L + "-public.example.com")
        wait_op(SD.update_http_namespace(Id=ns_http, Namespace={"Description": "updated"})["OperationId"])
        self.assertEqual(SD.get_namespace(Id=ns_http)["Namespace"]["Description"], "updated")
        with self.assertRaises(ex.NamespaceAlreadyExists):
            SD.create_http_namespace(Name=L + "-http")

        # -- services: DNS config, a Route 53-style HTTP check (public DNS), custom health
        api = SD.create_service(Name="api", NamespaceId=ns_http, Description="api",
                                HealthCheckCustomConfig={})["Service"]
        self.assertEqual(api["Type"], "HTTP")
        batch = SD.create_service(Name="batch", NamespaceId=ns_http)["Service"]
        web = SD.create_service(Name="web", NamespaceId=ns_priv, HealthCheckCustomConfig={}, DnsConfig={
            "RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 60}, {"Type": "AAAA", "TTL": 60}]})["Service"]
        self.assertEqual(web["Type"], "DNS_HTTP")
        self.assertEqual(web["DnsConfig"]["RoutingPolicy"], "MULTIVALUE")
        self.assertEqual([r["Type"] for r in web["DnsConfig"]["DnsRecords"]], ["A", "AAAA"])
        www = SD.create_service(Name="www", NamespaceId=ns_pub, DnsConfig={
            "RoutingPolicy": "WEIGHTED", "DnsRecords": [{"Type": "A", "TTL": 30}]},
            HealthCheckConfig={"Type": "HTTP", "ResourcePath": "/healthz", "FailureThreshold": 2})["Service"]
        got = SD.get_service(Id=www["Id"])["Service"]
        self.assertEqual(got["HealthCheckConfig"], {"Type": "HTTP", "ResourcePath": "/healthz", "FailureThreshold": 2})
        self.assertEqual(got["NamespaceId"], ns_pub)
        with self.assertRaises(ex.ServiceAlreadyExists) as cm:
            SD.create_service(Name="api", NamespaceId=ns_http)
        self.assertEqual(cm.exception.response["ServiceId"], api["Id"])

        # -- instances with attributes
        def register(svc, iid, attrs):
            op = wait_op(SD.register_instance(ServiceId=svc["Id"], InstanceId=iid, Attributes=attrs)["OperationId"])
            self.assertEqual(op["Type"], "REGISTER_INSTANCE")
            self.assertEqual(op["Targets"]["INSTANCE"], iid)
        register(api, "a-1", {"color": "blue", "stage": "prod", "AWS_INSTANCE_IPV4": "192.0.2.1"})
        register(api, "a-2", {"color": "green", "stage": "prod"})
        register(api, "a-3", {"color": "blue", "stage": "dev", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})
        register(batch, "b-1", {"stage": "prod"})
        register(web, "w-1", {"AWS_INSTANCE_IPV4": "192.0.2.10", "AWS_INSTANCE_IPV6": "2001:db8::10"})
        register(web, "w-2", {"AWS_INSTANCE_IPV4": "192.0.2.11"})
        # The HTTP check probes cairn's own /healthz, which answers 200.
        register(www, "h-1", {"AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": str(API_PORT)})
        inst = SD.get_instance(ServiceId=api["Id"], InstanceId="a-1")["Instance"]
        self.assertEqual(inst["Attributes"]["color"], "blue")
        self.assertEqual(SD.get_service(Id=api["Id"])["Service"]["InstanceCount"], 3)

        # -- discovery: QueryParameters, OptionalParameters, HealthStatus, MaxResults
        def discover(ns, svc, **kw):
            return SD.discover_instances(NamespaceName=ns, ServiceName=svc, **kw)
        http = L + "-http"
        out = discover(http, "api", QueryParameters={"color": "blue"}, HealthStatus="ALL")
        self.assertEqual(ids(out["Instances"]), ["a-1", "a-3"])
        first = out["Instances"][0]
        self.assertEqual((first["NamespaceName"], first["ServiceName"]), (http, "api"))
        self.assertEqual(ids(discover(http, "api", QueryParameters={"color": "blue"}, HealthStatus="HEALTHY")["Instances"]), ["a-1"])
        self.assertEqual(ids(discover(http, "api", HealthStatus="UNHEALTHY")["Instances"]), ["a-3"])
        self.assertEqual(ids(discover(http, "api", QueryParameters={"stage": "dev"}, HealthStatus="HEALTHY_OR_ELSE_ALL")["Instances"]), ["a-3"])
        self.assertEqual(ids(discover(http, "api", QueryParameters={"color": "blue"}, OptionalParameters={"stage": "dev"},
                                      HealthStatus="ALL")["Instances"]), ["a-3"])
        self.assertEqual(len(discover(http, "api", HealthStatus="ALL", MaxResults=1)["Instances"]), 1)
        out = discover(L + "-private.internal", "web", HealthStatus="ALL")
        self.assertEqual(ids(out["Instances"]), ["w-1", "w-2"])
        self.assertEqual({i["HealthStatus"] for i in out["Instances"]}, {"HEALTHY"})
        out = discover(L + "-public.example.com", "www", HealthStatus="HEALTHY")
        self.assertEqual(ids(out["Instances"]), ["h-1"])
        b = discover(http, "batch")
        self.assertEqual([i["HealthStatus"] for i in b["Instances"]], ["UNKNOWN"])
        revision = discover(http, "api", HealthStatus="ALL")["InstancesRevision"]
        self.assertEqual(SD.discover_instances_revision(NamespaceName=http, ServiceName="api")["InstancesRevision"], revision)

        # -- GetInstancesHealthStatus, whole, by instance, and by pages
        self.assertEqual(SD.get_instances_health_status(ServiceId=api["Id"])["Status"],
                         {"a-1": "HEALTHY", "a-2": "HEALTHY", "a-3": "UNHEALTHY"})
        self.assertEqual(SD.get_instances_health_status(ServiceId=api["Id"], Instances=["a-3"])["Status"], {"a-3": "UNHEALTHY"})
        merged, token, n = {}, None, 0
        while True:
            kw = {"NextToken": token} if token else {}
            out = SD.get_instances_health_status(ServiceId=api["Id"], MaxResults=1, **kw)
            self.assertEqual(len(out["Status"]), 1)
            merged.update(out["Status"])
            n += 1
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual((merged, n), ({"a-1": "HEALTHY", "a-2": "HEALTHY", "a-3": "UNHEALTHY"}, 3))
        self.assertEqual(SD.get_instances_health_status(ServiceId=www["Id"])["Status"], {"h-1": "HEALTHY"})
        self.assertEqual(SD.get_instances_health_status(ServiceId=batch["Id"])["Status"], {"b-1": "UNKNOWN"})

        # -- UpdateInstanceCustomHealthStatus
        SD.update_instance_custom_health_status(ServiceId=api["Id"], InstanceId="a-1", Status="UNHEALTHY")
        SD.update_instance_custom_health_status(ServiceId=api["Id"], InstanceId="a-3", Status="HEALTHY")
        self.assertEqual(SD.get_instances_health_status(ServiceId=api["Id"])["Status"],
                         {"a-1": "UNHEALTHY", "a-2": "HEALTHY", "a-3": "HEALTHY"})
        self.assertEqual(ids(discover(http, "api", QueryParameters={"color": "blue"}, HealthStatus="HEALTHY")["Instances"]), ["a-3"])
        self.assertEqual(SD.discover_instances_revision(NamespaceName=http, ServiceName="api")["InstancesRevision"], revision,
                         "health changes must not change InstancesRevision")
        with self.assertRaises(ex.CustomHealthNotFound):
            SD.update_instance_custom_health_status(ServiceId=batch["Id"], InstanceId="b-1", Status="HEALTHY")

        # -- UpdateService: TTL, health check, description
        op = wait_op(SD.update_service(Id=www["Id"], Service={
            "Description": "updated", "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 45}]},
            "HealthCheckConfig": {"Type": "HTTP", "ResourcePath": "/healthz", "FailureThreshold": 3}})["OperationId"])
        self.assertEqual(op["Type"], "UPDATE_SERVICE")
        self.assertEqual(op["Targets"]["SERVICE"], www["Id"])
        got = SD.get_service(Id=www["Id"])["Service"]
        self.assertEqual((got["Description"], got["DnsConfig"]["DnsRecords"][0]["TTL"], got["HealthCheckConfig"]["FailureThreshold"]),
                         ("updated", 45, 3))
        with self.assertRaises(ex.InvalidInput):  # services of HTTP namespaces can't be updated
            SD.update_service(Id=api["Id"], Service={"Description": "x"})

        # -- tags on a namespace and a service
        SD.tag_resource(ResourceARN=got_arn(ns_http), Tags=[{"Key": "env", "Value": "test"}, {"Key": "owner", "Value": "compat"}])
        self.assertEqual(tags(got_arn(ns_http)), {"team": "a", "env": "test", "owner": "compat"})
        SD.untag_resource(ResourceARN=got_arn(ns_http), TagKeys=["team", "owner"])
        self.assertEqual(tags(got_arn(ns_http)), {"env": "test"})
        SD.tag_resource(ResourceARN=api["Arn"], Tags=[{"Key": "tier", "Value": "gold"}])
        self.assertEqual(tags(api["Arn"]), {"tier": "gold"})
        with self.assertRaises(ex.ResourceNotFoundException):
            SD.list_tags_for_resource(ResourceARN=api["Arn"].replace(api["Id"], "srv-aaaaaaaaaaaaaaaa"))

        # -- service attributes
        SD.update_service_attributes(ServiceId=api["Id"], Attributes={"version": "1", "tier": "gold"})
        sa = SD.get_service_attributes(ServiceId=api["Id"])["ServiceAttributes"]
        self.assertEqual((sa["ServiceArn"], sa["Attributes"]), (api["Arn"], {"version": "1", "tier": "gold"}))
        SD.delete_service_attributes(ServiceId=api["Id"], Attributes=["tier"])
        self.assertEqual(SD.get_service_attributes(ServiceId=api["Id"])["ServiceAttributes"]["Attributes"], {"version": "1"})

        # -- every List, MaxResults 1 by hand, then with boto3's paginators
        ours = lambda names: sorted(n for n in names if n.startswith(L + "-"))
        nss, n = pages(SD.list_namespaces, "Namespaces")
        self.assertEqual(ours(x["Name"] for x in nss), sorted([L + "-http", L + "-private.internal", L + "-public.example.com"]))
        self.assertGreaterEqual(n, 3)
        nss, _ = pages(SD.list_namespaces, "Namespaces", Filters=[{"Name": "TYPE", "Values": ["DNS_PRIVATE"], "Condition": "EQ"}])
        self.assertEqual(ours(x["Name"] for x in nss), [L + "-private.internal"])
        svcs, n = pages(SD.list_services, "Services", Filters=[{"Name": "NAMESPACE_ID", "Values": [ns_http]}])
        self.assertEqual((sorted(s["Name"] for s in svcs), n), (["api", "batch"], 2))
        insts, n = pages(SD.list_instances, "Instances", ServiceId=api["Id"])
        self.assertEqual((ids(insts), n), (["a-1", "a-2", "a-3"], 3))
        ops, n = pages(SD.list_operations, "Operations", Filters=[
            {"Name": "SERVICE_ID", "Values": [api["Id"]]}, {"Name": "TYPE", "Values": ["REGISTER_INSTANCE"]}])
        self.assertEqual((len(ops), n), (3, 3))
        self.assertEqual({o["Status"] for o in ops}, {"SUCCESS"})

        def paginate(op, key, **kw):
            pg = SD.get_paginator(op).paginate(PaginationConfig={"PageSize": 1}, **kw)
            items, n = [], 0
            for page in pg:
                n += 1
                items.extend(page[key])
            return items, n
        nss, n = paginate("list_namespaces", "Namespaces")
        self.assertEqual(len(ours(x["Name"] for x in nss)), 3)
        svcs, n = paginate("list_services", "Services")
        self.assertTrue({"api", "batch", "web", "www"} <= {s["Name"] for s in svcs})
        self.assertGreaterEqual(n, 4)
        summary = [s for s in svcs if s["Id"] == web["Id"]][0]
        self.assertEqual(summary["DnsConfig"]["DnsRecords"][0]["Type"], "A")  # external-dns reads it from summaries
        insts, n = paginate("list_instances", "Instances", ServiceId=web["Id"])
        self.assertEqual((ids(insts), n), (["w-1", "w-2"], 2))
        ops, n = paginate("list_operations", "Operations", Filters=[{"Name": "NAMESPACE_ID", "Values": [ns_http]},
                                                                     {"Name": "STATUS", "Values": ["SUCCESS"]}])
        self.assertGreaterEqual(len(ops), 5)  # create, update, 4 registers
        self.assertEqual(n, len(ops))

        # -- what can't be deleted yet
        with self.assertRaises(ex.ResourceInUse):
            SD.delete_service(Id=api["Id"])
        with self.assertRaises(ex.ResourceInUse):
            SD.delete_namespace(Id=ns_http)

        # -- deregister everything
        for svc, iid in [(api, "a-1"), (api, "a-2"), (api, "a-3"), (batch, "b-1"), (web, "w-1"), (web, "w-2"), (www, "h-1")]:
            op = wait_op(SD.deregister_instance(ServiceId=svc["Id"], InstanceId=iid)["OperationId"])
            self.assertEqual(op["Type"], "DEREGISTER_INSTANCE")
        with self.assertRaises(ex.InstanceNotFound):
            SD.get_instance(ServiceId=api["Id"], InstanceId="a-1")
        with self.assertRaises(ex.InstanceNotFound):
            SD.deregister_instance(ServiceId=api["Id"], InstanceId="a-1")
        self.assertEqual(discover(http, "api", HealthStatus="ALL")["Instances"], [])
        self.assertGreater(SD.discover_instances_revision(NamespaceName=http, ServiceName="api")["InstancesRevision"], revision)

        # -- delete services, then namespaces
        for svc in (api, batch, web, www):
            SD.delete_service(Id=svc["Id"])
            with self.assertRaises(ex.ServiceNotFound):
                SD.get_service(Id=svc["Id"])
        for ns in (ns_http, ns_priv, ns_pub):
            op = wait_op(SD.delete_namespace(Id=ns)["OperationId"])
            self.assertEqual(op["Type"], "DELETE_NAMESPACE")
            with self.assertRaises(ex.NamespaceNotFound):
                SD.get_namespace(Id=ns)
        self.assertEqual(ours(x["Name"] for x in pages(SD.list_namespaces, "Namespaces")[0]), [])


def got_arn(ns_id):
    return SD.get_namespace(Id=ns_id)["Namespace"]["Arn"]


def tags(arn):
    return {t["Key"]: t["Value"] for t in SD.list_tags_for_resource(ResourceARN=arn)["Tags"]}


class Errors(unittest.TestCase):
    """The main errors surface as boto3's modeled exceptions."""

    def test_modeled_exceptions(self):
        ex = SD.exceptions
        with self.assertRaises(ex.NamespaceNotFound) as cm:
            SD.get_namespace(Id="ns-aaaaaaaaaaaaaaaa")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertRaises(ex.NamespaceNotFound):
            SD.create_service(Name="x", NamespaceId="ns-aaaaaaaaaaaaaaaa")
        with self.assertRaises(ex.NamespaceNotFound):
            SD.discover_instances(NamespaceName=PREFIX + "-nowhere", ServiceName="x")
        with self.assertRaises(ex.ServiceNotFound):
            SD.get_service(Id="srv-aaaaaaaaaaaaaaaa")
        with self.assertRaises(ex.ServiceNotFound):
            SD.register_instance(ServiceId="srv-aaaaaaaaaaaaaaaa", InstanceId="i", Attributes={"a": "b"})
        with self.assertRaises(ex.OperationNotFound):
            SD.get_operation(OperationId="nope")
        with self.assertRaises(ex.InvalidInput):
            SD.create_http_namespace(Name="bad name")
        with self.assertRaises(ex.InvalidInput):
            SD.list_namespaces(NextToken="not-a-token")
        op = wait_op(SD.create_http_namespace(Name=PREFIX + "-errors")["OperationId"])
        ns = op["Targets"]["NAMESPACE"]
        svc = SD.create_service(Name="s", NamespaceId=ns)["Service"]
        with self.assertRaises(ex.InstanceNotFound):
            SD.get_instance(ServiceId=svc["Id"], InstanceId="missing")
        with self.assertRaises(ex.ServiceAlreadyExists):
            SD.create_service(Name="s", NamespaceId=ns)
        with self.assertRaises(ex.ResourceInUse):
            SD.delete_namespace(Id=ns)
        SD.delete_service(Id=svc["Id"])
        wait_op(SD.delete_namespace(Id=ns)["OperationId"])


class HostPrefix(unittest.TestCase):
    """The tested ways to reach DiscoverInstances despite the data- host prefix."""

    @classmethod
    def setUpClass(cls):
        op = wait_op(SD.create_http_namespace(Name=PREFIX + "-prefix")["OperationId"])
        cls.ns = op["Targets"]["NAMESPACE"]
        cls.svc = SD.create_service(Name="p", NamespaceId=cls.ns)["Service"]
        wait_op(SD.register_instance(ServiceId=cls.svc["Id"], InstanceId="p-1", Attributes={"k": "v"})["OperationId"])

    @classmethod
    def tearDownClass(cls):
        wait_op(SD.deregister_instance(ServiceId=cls.svc["Id"], InstanceId="p-1")["OperationId"])
        SD.delete_service(Id=cls.svc["Id"])
        wait_op(SD.delete_namespace(Id=cls.ns)["OperationId"])

    def discover(self, c):
        out = c.discover_instances(NamespaceName=PREFIX + "-prefix", ServiceName="p")
        self.assertEqual(ids(out["Instances"]), ["p-1"])
        c.discover_instances_revision(NamespaceName=PREFIX + "-prefix", ServiceName="p")

    def test_default_client_prefixes_data(self):
        c = client(inject_host_prefix=True, connect_timeout=2, retries={"max_attempts": 1})
        with self.assertRaises(EndpointConnectionError) as cm:
            c.discover_instances(NamespaceName=PREFIX + "-prefix", ServiceName="p")
        self.assertIn("data-", str(cm.exception))

    def test_config_inject_host_prefix_false(self):
        self.discover(client(inject_host_prefix=False))

    def test_env_disable_host_prefix_injection(self):
        old = os.environ.get("AWS_DISABLE_HOST_PREFIX_INJECTION")
        os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"] = "true"
        try:
            c = boto3.session.Session().client("servicediscovery", endpoint_url=ENDPOINT, region_name=REGION)
        finally:
            if old is None:
                del os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"]
            else:
                os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"] = old
        self.discover(c)

    @unittest.skipUnless(DATA_ENDPOINT, "no endpoint with a resolvable data- twin (CAIRN_DATA_ENDPOINT)")
    def test_resolvable_data_host(self):
        c = boto3.session.Session().client("servicediscovery", endpoint_url=DATA_ENDPOINT, region_name=REGION)
        self.discover(c)


@unittest.skipUnless(AUTH, "cairn runs without --credentials (CAIRN_AUTH is not 1)")
class Auth(unittest.TestCase):
    """With --credentials, the environment's keys work and others are refused."""

    def code(self, c):
        with self.assertRaises(ClientError) as cm:
            c.list_namespaces()
        return cm.exception.response["Error"]["Code"]

    def test_wrong_secret(self):
        c = boto3.session.Session(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                                  aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"] + "x").client(
            "servicediscovery", endpoint_url=ENDPOINT, region_name=REGION, config=Config(retries={"max_attempts": 1}))
        self.assertEqual(self.code(c), "InvalidSignatureException")

    def test_unknown_key(self):
        c = boto3.session.Session(aws_access_key_id="AKIDCAIRNUNKNOWN", aws_secret_access_key="x").client(
            "servicediscovery", endpoint_url=ENDPOINT, region_name=REGION, config=Config(retries={"max_attempts": 1}))
        self.assertEqual(self.code(c), "UnrecognizedClientException")

    def test_unsigned(self):
        c = boto3.session.Session().client("servicediscovery", endpoint_url=ENDPOINT, region_name=REGION,
                                           config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))
        self.assertEqual(self.code(c), "MissingAuthenticationTokenException")

    def test_right_keys(self):
        SD.list_namespaces()


@unittest.skipUnless(AUTH, "cairn runs without --credentials (CAIRN_AUTH is not 1)")
class Policies(unittest.TestCase):
    """Profiles with a policy_file (compat_test.go's policyProfiles): what
    each may do, and AWS's AccessDeniedException for what it may not."""

    @classmethod
    def setUpClass(cls):
        cls.ns = {}
        for name, team in (("py-team-a-" + PREFIX, "a"), ("py-team-b-" + PREFIX, "b")):
            op = SD.create_http_namespace(Name=name, Tags=[{"Key": "team", "Value": team}])["OperationId"]
            ns_id = wait_op(op)["Targets"]["NAMESPACE"]
            svc = SD.create_service(Name="web", NamespaceId=ns_id, Tags=[{"Key": "team", "Value": team}])["Service"]
            wait_op(SD.register_instance(ServiceId=svc["Id"], InstanceId="i-1",
                                         Attributes={"AWS_INSTANCE_IPV4": "10.0.0.1"})["OperationId"])
            cls.ns[team] = (name, ns_id, SD.get_namespace(Id=ns_id)["Namespace"]["Arn"], svc["Id"], svc["Arn"])

    def as_(self, key):
        return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).client(
            "servicediscovery", endpoint_url=ENDPOINT, region_name=REGION,
            config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))

    def denied(self, fn, user, action, resource, explicit=False, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "AccessDeniedException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        why = ("with an explicit deny in an identity-based policy" if explicit else
               "because no identity-based policy allows the servicediscovery:%s action" % action)
        self.assertEqual(err["Message"], "User: arn:aws:iam::%s:user/%s is not authorized to perform: servicediscovery:%s on resource: %s %s"
                         % ("111122223333", user, action, resource, why))

    def test_discovery_only_key(self):
        c = self.as_("AKIDCAIRNDISCOVER")
        name, ns_id, ns_arn, svc_id, svc_arn = self.ns["a"]
        self.assertEqual(ids(c.discover_instances(NamespaceName=name, ServiceName="web")["Instances"]), ["i-1"])
        self.denied(c.deregister_instance, "discover", "DeregisterInstance", svc_arn, ServiceId=svc_id, InstanceId="i-1")
        self.denied(c.list_namespaces, "discover", "ListNamespaces", "*")

    def test_namespace_scoped_deployer(self):
        c = self.as_("AKIDCAIRNDEPLOYER")
        _, _, _, svc_a, _ = self.ns["a"]
        _, _, _, svc_b, svc_b_arn = self.ns["b"]
        wait_op(c.register_instance(ServiceId=svc_a, InstanceId="i-2", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.2"})["OperationId"], c)
        self.denied(c.register_instance, "deployer", "RegisterInstance", svc_b_arn,
                    ServiceId=svc_b, InstanceId="i-2", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.2"})

    def test_tag_based_access(self):
        c = self.as_("AKIDCAIRNTAGGED")
        _, _, _, svc_a, _ = self.ns["a"]
        _, _, _, svc_b, svc_b_arn = self.ns["b"]
        self.assertEqual(c.get_service(Id=svc_a)["Service"]["Name"], "web")
        self.denied(c.get_service, "tagged", "GetService", svc_b_arn, Id=svc_b)

    def test_explicit_deny(self):
        c = self.as_("AKIDCAIRNOPERATOR")
        _, ns_id, ns_arn, _, _ = self.ns["b"]
        c.list_namespaces()
        self.denied(c.delete_namespace, "operator", "DeleteNamespace", ns_arn, explicit=True, Id=ns_id)


class Route53(unittest.TestCase):
    """The read side of Route 53, on the same port: the hosted zone of a DNS
    namespace, the record sets Cloud Map created in it, and the health check
    of each instance of a service with a HealthCheckConfig."""

    @classmethod
    def setUpClass(cls):
        cls.r53 = boto3.session.Session().client(
            "route53", endpoint_url=ENDPOINT, region_name="us-east-1",
            config=Config(retries={"max_attempts": 2}))
        cls.name = PREFIX + "-r53.test"
        op = SD.create_public_dns_namespace(Name=cls.name)["OperationId"]
        cls.ns = wait_op(op)["Targets"]["NAMESPACE"]
        props = SD.get_namespace(Id=cls.ns)["Namespace"]["Properties"]
        cls.zone = props["DnsProperties"]["HostedZoneId"]
        # Health-checked instances point at cairn itself: probes stay on
        # loopback.
        cls.svc = SD.create_service(
            Name="web", NamespaceId=cls.ns,
            DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 60}, {"Type": "SRV", "TTL": 60}]},
            HealthCheckConfig={"Type": "HTTP", "ResourcePath": "/healthz"})["Service"]["Id"]
        cls.instances = ["w-%d" % i for i in range(3)]
        for i, inst in enumerate(cls.instances):
            wait_op(SD.register_instance(
                ServiceId=cls.svc, InstanceId=inst,
                Attributes={"AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": str(API_PORT)})["OperationId"])

    @classmethod
    def tearDownClass(cls):
        for inst in cls.instances:
            wait_op(SD.deregister_instance(ServiceId=cls.svc, InstanceId=inst)["OperationId"])
        SD.delete_service(Id=cls.svc)
        wait_op(SD.delete_namespace(Id=cls.ns)["OperationId"])

    def test_hosted_zone(self):
        z = self.r53.get_hosted_zone(Id=self.zone)
        hz = z["HostedZone"]
        self.assertEqual(hz["Id"], "/hostedzone/" + self.zone)
        self.assertEqual(hz["Name"], self.name + ".")
        self.assertFalse(hz["Config"]["PrivateZone"])
        self.assertEqual(hz["LinkedService"]["ServicePrincipal"], "servicediscovery.amazonaws.com")
        self.assertTrue(hz["LinkedService"]["Description"].endswith(":namespace/" + self.ns))
        # NS, SOA, 3 A, 3 SRV and the 3 SRV targets' A records.
        self.assertEqual(hz["ResourceRecordSetCount"], 11)
        self.assertGreaterEqual(self.r53.get_hosted_zone_count()["HostedZoneCount"], 1)
        listed = [z["Id"] for page in self.r53.get_paginator("list_hosted_zones").paginate(PaginationConfig={"PageSize": 1})
                  for z in page["HostedZones"]]
        self.assertIn("/hostedzone/" + self.zone, listed)
        self.assertEqual(len(listed), len(set(listed)))
        by_name = self.r53.list_hosted_zones_by_name(DNSName=self.name, MaxItems="1")["HostedZones"]
        self.assertEqual(by_name[0]["Name"], self.name + ".")

    def test_record_sets_paged(self):
        whole = self.r53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]
        self.assertEqual(len(whole), 11)
        paged = [rs for page in self.r53.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=self.zone, PaginationConfig={"PageSize": 2}) for rs in page["ResourceRecordSets"]]
        self.assertEqual(paged, whole)
        name = "web." + self.name + "."
        a = [rs for rs in whole if rs["Name"] == name and rs["Type"] == "A"]
        self.assertEqual(sorted(rs["SetIdentifier"] for rs in a), self.instances)
        for rs in a:
            self.assertTrue(rs["MultiValueAnswer"])
            self.assertEqual(rs["TTL"], 60)
            self.assertEqual(rs["ResourceRecords"], [{"Value": "127.0.0.1"}])
            self.assertIn("HealthCheckId", rs)
        srv = [rs for rs in whole if rs["Type"] == "SRV"]
        self.assertEqual(sorted(rs["ResourceRecords"][0]["Value"] for rs in srv),
                         ["1 1 %d %s.%s" % (API_PORT, i, name) for i in self.instances])
        # By hand, from a name, type and identifier.
        out = self.r53.list_resource_record_sets(HostedZoneId=self.zone, StartRecordName=name, StartRecordType="A",
                                                 StartRecordIdentifier="w-1", MaxItems="1")
        self.assertEqual(out["ResourceRecordSets"][0]["SetIdentifier"], "w-1")
        self.assertTrue(out["IsTruncated"])
        self.assertEqual((out["NextRecordName"], out["NextRecordType"], out["NextRecordIdentifier"]), (name, "A", "w-2"))

    def test_health_checks(self):
        ids = {rs["SetIdentifier"]: rs["HealthCheckId"]
               for rs in self.r53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]
               if rs["Type"] == "A" and "SetIdentifier" in rs}
        listed = {hc["Id"] for page in self.r53.get_paginator("list_health_checks").paginate(PaginationConfig={"PageSize": 1})
                  for hc in page["HealthChecks"]}
        self.assertTrue(set(ids.values()) <= listed, (ids, listed))
        self.assertGreaterEqual(self.r53.get_health_check_count()["HealthCheckCount"], 3)
        hc = self.r53.get_health_check(HealthCheckId=ids["w-0"])["HealthCheck"]
        cfg = hc["HealthCheckConfig"]
        self.assertEqual((cfg["Type"], cfg["IPAddress"], cfg["Port"], cfg["ResourcePath"], cfg["FailureThreshold"]),
                         ("HTTP", "127.0.0.1", API_PORT, "/healthz", 3))
        self.assertTrue(hc["LinkedService"]["Description"].endswith(":service/" + self.svc))
        obs = self.r53.get_health_check_status(HealthCheckId=ids["w-0"])["HealthCheckObservations"]
        self.assertTrue(obs[0]["StatusReport"]["Status"].startswith("Success"), obs)

    def test_errors(self):
        with self.assertRaises(self.r53.exceptions.NoSuchHostedZone):
            self.r53.get_hosted_zone(Id="Z0000000000000000000")
        with self.assertRaises(self.r53.exceptions.NoSuchHealthCheck):
            self.r53.get_health_check(HealthCheckId="00000000-0000-0000-0000-000000000000")
        with self.assertRaises(ClientError) as cm:
            self.r53.delete_hosted_zone(Id=self.zone)
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        self.assertIn("servicediscovery.amazonaws.com", cm.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as cm:
            self.r53.create_hosted_zone(Name="new.test", CallerReference="x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidAction")
        if AUTH:
            bad = boto3.session.Session(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong").client(
                "route53", endpoint_url=ENDPOINT, region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
            with self.assertRaises(ClientError) as cm:
                bad.get_hosted_zone_count()
            self.assertEqual(cm.exception.response["Error"]["Code"], "SignatureDoesNotMatch")


if __name__ == "__main__":
    unittest.main(verbosity=2)
