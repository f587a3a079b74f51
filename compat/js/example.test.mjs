// The README's JavaScript example: a suite that resets cairn before each
// test and points the SDK at it. Run by compat_test.go against a cairn in
// development mode (CAIRN_ENDPOINT).
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import {
  ServiceDiscoveryClient, CreateHttpNamespaceCommand, GetOperationCommand, CreateServiceCommand,
  RegisterInstanceCommand, DiscoverInstancesCommand, ListNamespacesCommand,
} from "@aws-sdk/client-servicediscovery";

const endpoint = process.env.CAIRN_ENDPOINT ?? "http://127.0.0.1:9080";
const sd = new ServiceDiscoveryClient({
  endpoint, region: "us-east-1", disableHostPrefix: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

beforeEach(async () => {
  const res = await fetch(endpoint + "/moto-api/reset", { method: "POST" });
  assert.equal(res.status, 200);
});

test("register and discover", async () => {
  const { OperationId } = await sd.send(new CreateHttpNamespaceCommand({ Name: "shop" }));
  const op = await sd.send(new GetOperationCommand({ OperationId }));
  const { Service } = await sd.send(new CreateServiceCommand({ Name: "cart", NamespaceId: op.Operation.Targets.NAMESPACE }));
  await sd.send(new RegisterInstanceCommand({ ServiceId: Service.Id, InstanceId: "i-1", Attributes: { AWS_INSTANCE_IPV4: "10.0.0.1" } }));
  const { Instances } = await sd.send(new DiscoverInstancesCommand({ NamespaceName: "shop", ServiceName: "cart" }));
  assert.deepEqual(Instances.map((i) => i.InstanceId), ["i-1"]);
});

test("starts empty", async () => {
  const { Namespaces } = await sd.send(new ListNamespacesCommand({}));
  assert.deepEqual(Namespaces, []);
});
