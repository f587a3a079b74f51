"""The README's pytest example: one cairn for the whole session, wiped
before each test. Run by compat_test.go (TestPytestFixture) with pytest;
CAIRN_BIN names the cairn binary.

    CAIRN_BIN=$(go env GOPATH)/bin/cairn python3 -m pytest -q test_pytest_fixture.py
"""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config


@pytest.fixture(scope="session")
def cairn_endpoint():
    """Starts cairn on a free loopback port over a fresh data folder."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp()
    proc = subprocess.Popen([os.environ.get("CAIRN_BIN", "cairn"), "serve", "--api-addr", f"127.0.0.1:{port}",
                             "--dns-addr", "", "--data-dir", data], stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            if urllib.request.urlopen(endpoint + "/healthz").read().strip() == b"ok":
                break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.02)
    yield endpoint
    proc.terminate()
    proc.wait()


@pytest.fixture
def servicediscovery(cairn_endpoint):
    """A client of a cairn wiped of everything before the test."""
    urllib.request.urlopen(urllib.request.Request(cairn_endpoint + "/moto-api/reset", method="POST"))
    return boto3.client("servicediscovery", endpoint_url=cairn_endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(inject_host_prefix=False))


def test_register_and_discover(servicediscovery):
    op = servicediscovery.create_http_namespace(Name="shop")["OperationId"]
    ns = servicediscovery.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
    svc = servicediscovery.create_service(Name="cart", NamespaceId=ns)["Service"]["Id"]
    servicediscovery.register_instance(ServiceId=svc, InstanceId="i-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.1"})
    found = servicediscovery.discover_instances(NamespaceName="shop", ServiceName="cart")["Instances"]
    assert [i["InstanceId"] for i in found] == ["i-1"]


def test_starts_empty(servicediscovery):
    # The same name again: the fixture's reset wiped the first test's namespace.
    assert servicediscovery.list_namespaces()["Namespaces"] == []
    servicediscovery.create_http_namespace(Name="shop")
