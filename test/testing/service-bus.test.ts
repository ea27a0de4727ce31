// eventjobs/testing as a test file uses it: startServiceBus in this process, the official SDK's clients on the
// connection string it returns (the admin client too, over HTTPS, with no CA set up before this process started),
// several instances side by side, the helpers, and what stop() leaves behind.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ServiceBusAdministrationClient, ServiceBusClient } from "@azure/service-bus";
import { startServiceBus, type ServiceBus } from "../../src/testing/index.js";
import { TEST_CA_DIR, uniqueName } from "../helpers/broker.js";

const started: ServiceBus[] = [];
after(async () => {
  for (const sb of started) await sb.stop();
});

async function start(o: Parameters<typeof startServiceBus>[0] = {}): Promise<ServiceBus> {
  const sb = await startServiceBus({ caDir: TEST_CA_DIR, ...o });
  started.push(sb);
  return sb;
}

/** Whether something accepts connections on the port (the platform's listeners are gone after stop). */
function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      done(true);
    });
    s.on("error", () => done(false));
  });
}

describe("startServiceBus", () => {
  it("serves ServiceBusClient on the returned connection string, with queues and topics made at start", async () => {
    const queue = uniqueName("orders");
    const topic = uniqueName("events");
    const sb = await start({
      queues: [queue],
      topics: [
        {
          name: topic,
          subscriptions: [
            "audit",
            { name: "eu", rules: [{ name: "eu-only", properties: { sqlFilter: { sqlExpression: "region = 'eu'" } } }] },
          ],
        },
      ],
    });
    assert.match(
      sb.connectionString,
      /^Endpoint=sb:\/\/localhost:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;$/,
    );
    assert.equal(sb.fqdn, `localhost:${sb.endpoints.amqpsPort}`);
    const client = new ServiceBusClient(sb.connectionString);
    try {
      await client.createSender(queue).sendMessages({ body: "from the SDK", messageId: "m1" });
      const [peeked] = await sb.peek(queue);
      assert.equal(peeked.body, "from the SDK");
      assert.equal(peeked.messageId, "m1");

      await sb.send(queue, { body: "from the helper", subject: "s", applicationProperties: { n: 1 } });
      const receiver = client.createReceiver(queue, { receiveMode: "receiveAndDelete" });
      const got = await receiver.receiveMessages(2, { maxWaitTimeInMs: 5000 });
      assert.deepEqual(
        got.map((m) => m.body),
        ["from the SDK", "from the helper"],
      );
      assert.equal(got[1].subject, "s");
      assert.deepEqual(got[1].applicationProperties, { n: 1 });
      assert.deepEqual(await sb.peek(queue), []);

      await sb.send(topic, { body: "fan out", applicationProperties: { region: "us" } });
      assert.equal((await sb.peek(`${topic}/Subscriptions/audit`)).length, 1);
      assert.equal((await sb.peek(`${topic}/subscriptions/eu`)).length, 0, "the eu rule filters it out");
    } finally {
      await client.close();
    }
  });

  it("serves ServiceBusAdministrationClient over HTTPS with the returned connection string and adminClientOptions", async () => {
    const sb = await start();
    const admin = new ServiceBusAdministrationClient(sb.connectionString, sb.adminClientOptions);
    const queue = uniqueName("admin");
    await admin.createQueue(queue, { maxDeliveryCount: 4 });
    assert.equal((await admin.getQueue(queue)).maxDeliveryCount, 4);
    await sb.send(queue, "counted");
    assert.equal((await admin.getQueueRuntimeProperties(queue)).activeMessageCount, 1);
    assert.ok(await admin.queueExists(queue));
    const topic = uniqueName("admin-topic");
    await admin.createTopic(topic);
    await admin.createSubscription(topic, "all");
    await sb.send(topic, "to all");
    assert.equal((await sb.peek(`${topic}/Subscriptions/all`))[0].body, "to all");
  });

  it("runs several instances in one process without sharing ports, entities or messages", async () => {
    const queue = uniqueName("same-name");
    const [a, b] = await Promise.all([start({ queues: [queue] }), start({ queues: [queue] })]);
    assert.notEqual(a.endpoints.amqpPort, b.endpoints.amqpPort);
    assert.notEqual(a.dataDir, b.dataDir);
    await a.send(queue, "only in a");
    assert.equal((await a.peek(queue)).length, 1);
    assert.equal((await b.peek(queue)).length, 0);
    await a.stop();
    assert.equal(await listening(a.endpoints.amqpPort), false);
    await b.send(queue, "b still serves");
    assert.equal((await b.peek(queue))[0].body, "b still serves");
  });

  it("in memory (the default) leaves nothing on disk after stop; `await using` stops it at the end of the block", async () => {
    let dir = "";
    let port = 0;
    {
      await using sb = await startServiceBus({ caDir: TEST_CA_DIR, queues: ["q"] });
      dir = sb.dataDir;
      port = sb.endpoints.httpPort;
      await sb.send("q", "gone with the server");
      assert.ok(existsSync(dir));
    }
    assert.equal(existsSync(dir), false, `${dir} removed`);
    const replicas = join(tmpdir(), `eventjobs-replicas-${process.pid}`);
    assert.equal(existsSync(replicas), false, `${replicas} (replica dirs in memory mode) removed`);
    assert.equal(await listening(port), false);
  });

  it("with inMemory: false and a data dir, keeps messages across a restart and leaves the directory", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "eventjobs-testing-kept-"));
    try {
      const queue = uniqueName("kept");
      const first = await start({ dataDir, inMemory: false, queues: [queue] });
      await first.send(queue, "still here");
      await first.stop();
      assert.ok(existsSync(join(dataDir, "eventjobs.db")));
      const second = await start({ dataDir, inMemory: false });
      assert.equal((await second.peek(queue))[0].body, "still here");
      await second.stop();
      assert.ok(existsSync(dataDir), "a data dir the test gave is not removed");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses bad options before starting, naming the option and the value", async () => {
    await assert.rejects(
      startServiceBus({ queue: ["x"] } as never),
      /startServiceBus: queue: \["x"\] — expected no such option/,
    );
    await assert.rejects(
      startServiceBus({ queues: ["ok", 42] } as never),
      /queues\[1\]: 42 — expected a queue name or \{ name, properties \}/,
    );
    await assert.rejects(startServiceBus({ inMemory: "yes" } as never), /inMemory: "yes" — expected true or false/);
    await assert.rejects(
      start({ queues: [{ name: "q", properties: { maxDeliveryCount: "many" } }] }),
      /createQueue\("q"\): maxDeliveryCount: "many" — expected/,
    );
    await assert.rejects(
      start({ project: "/nonexistent/eventjobs.yaml" }),
      /\/nonexistent\/eventjobs\.yaml.*cannot read/,
    );
  });

  it("helpers fail with the entity's name: send to nothing, peek of a missing subscription", async () => {
    const sb = await start();
    await assert.rejects(
      sb.send("nowhere", "x"),
      /send\("nowhere"\): no queue or topic "nowhere" in namespace sbemulatorns/,
    );
    await assert.rejects(sb.peek("t/Subscriptions/s"), /peek\("t\/Subscriptions\/s"\): .*t/);
    await sb.createQueue("q");
    await assert.rejects(
      sb.send("q", { body: 7 } as never),
      /send\("q"\): body: expected the message body as a string/,
    );
  });
});
