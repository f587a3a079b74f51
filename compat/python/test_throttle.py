"""boto3's standard retry mode against cairn's throttling.

Run by compat_test.go (TestBoto3Throttle) against a cairn started with
--throttle discover=1:1,other=1:1 (buckets of 1 refilling at 1/s, quick to
reach even from a slow client): RequestLimitExceeded and ThrottlingException are throttling errors
botocore retries with backoff.
"""

import os
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["CAIRN_ENDPOINT"]


def client(**retries):
    return boto3.session.Session().client(
        "servicediscovery", endpoint_url=ENDPOINT, region_name="us-east-1",
        config=Config(inject_host_prefix=False, retries=retries))


class Throttle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sd = client(mode="standard", max_attempts=10)
        op = sd.create_http_namespace(Name="throttled")["OperationId"]
        ns = sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        sd.create_service(Name="cart", NamespaceId=ns)

    def test_standard_mode_rides_through(self):
        sd = client(mode="standard", max_attempts=10)
        retried = 0
        for _ in range(5):
            out = sd.discover_instances(NamespaceName="throttled", ServiceName="cart")
            retried += out["ResponseMetadata"]["RetryAttempts"]
            out = sd.list_services()
            retried += out["ResponseMetadata"]["RetryAttempts"]
        self.assertGreater(retried, 0, "10 calls through buckets of 1 were never retried")

    def test_errors_without_retries(self):
        sd = client(mode="standard", max_attempts=1)
        codes = set()
        for call in (lambda: sd.discover_instances(NamespaceName="throttled", ServiceName="cart"), sd.list_namespaces):
            for _ in range(5):
                try:
                    call()
                except ClientError as e:
                    self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
                    codes.add(e.response["Error"]["Code"])
        self.assertEqual(codes, {"RequestLimitExceeded", "ThrottlingException"})


if __name__ == "__main__":
    unittest.main()
