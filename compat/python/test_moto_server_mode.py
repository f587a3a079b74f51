"""A suite written for moto's server mode, run unchanged against cairn.

moto's decorator, with TEST_SERVER_MODE=true, points every boto3 client at
TEST_SERVER_MODE_ENDPOINT and calls POST /moto-api/reset there before and
after each test: cairn serves that path in development mode, so each test
starts from nothing. Run by compat_test.go (TestMotoServerMode) with:

    TEST_SERVER_MODE=true TEST_SERVER_MODE_ENDPOINT=http://127.0.0.1:9080 \\
    AWS_DISABLE_HOST_PREFIX_INJECTION=true python3 -m unittest -v test_moto_server_mode
"""

import os
import unittest

import boto3
import requests
from moto import mock_aws

ENDPOINT = os.environ["TEST_SERVER_MODE_ENDPOINT"]


class MotoServerMode(unittest.TestCase):
    """Each test creates the same names: they pass only if moto's reset,
    sent by the decorator, wiped cairn between them."""

    def _build(self):
        sd = boto3.client("servicediscovery", region_name="us-east-1")
        self.assertEqual(sd.list_namespaces()["Namespaces"], [], "the decorator's reset left namespaces behind")
        op = sd.create_http_namespace(Name="shop", CreatorRequestId="same-token")["OperationId"]
        ns = sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        svc = sd.create_service(Name="cart", NamespaceId=ns)["Service"]["Id"]
        sd.register_instance(ServiceId=svc, InstanceId="i-1", Attributes={"color": "red"})
        found = sd.discover_instances(NamespaceName="shop", ServiceName="cart")["Instances"]
        self.assertEqual([i["InstanceId"] for i in found], ["i-1"])
        return op

    @mock_aws
    def test_first(self):
        self.first_op = self._build()

    @mock_aws
    def test_second(self):
        # The same token after a reset starts a new operation.
        self._build()

    def test_reset_path_directly(self):
        sd = boto3.client("servicediscovery", region_name="us-east-1", endpoint_url=ENDPOINT)
        sd.create_http_namespace(Name="left-over")
        resp = requests.post(ENDPOINT + "/moto-api/reset")
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.json(), {"status": "ok"})
        self.assertEqual(sd.list_namespaces()["Namespaces"], [])
        self.assertEqual(requests.get(ENDPOINT + "/moto-api/reset").status_code, 400)


if __name__ == "__main__":
    unittest.main()
