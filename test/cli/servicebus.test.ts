// `eventjobs servicebus namespace|queue|message ...` spawned as a user runs them, against a server in this process.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { RETRY } from "../helpers/sdk.js";

const NS = "servicebus-ns-job";

describe("servicebus CLI", () => {
  let broker: TestBroker;
  const sb = (args: string[]) => cli(broker.dataDir, ["servicebus", ...args]);
  before(async () => {
    broker = await startBroker(
      `namespaces:\n  - name: sbemulatorns\n    queues:\n      - name: inbox\n  - name: ${NS}\n    queues:\n      - name: declared\n`,
    );
  });
  after(() => broker?.close());

  it("queue create with az's flags prints the ARM resource; show, list (-o table, tsv, yaml), delete", async () => {
    // prettier-ignore
    const r = await sb(["queue", "create", "--namespace-name", NS, "--name", "queue-messages", "--resource-group", "rg-lab",
      "--lock-duration", "PT5M", "--max-delivery-count", "1", "--default-message-time-to-live", "P1D",
      "--enable-dead-lettering-on-message-expiration", "true", "--enable-duplicate-detection",
      "--duplicate-detection-history-time-window", "PT1M", "--forward-dead-lettered-messages-to", "declared", "--max-size", "2048"]);
    assert.equal(r.code, 0, r.stderr);
    const q = JSON.parse(r.stdout);
    assert.equal(
      q.id,
      `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-lab/providers/Microsoft.ServiceBus/namespaces/${NS}/queues/queue-messages`,
      "-g is recorded: the namespace declared in no group is now in rg-lab",
    );
    assert.equal(q.type, "Microsoft.ServiceBus/namespaces/queues");
    assert.deepEqual(
      { ...q.properties, countDetails: undefined },
      {
        lockDuration: "PT5M",
        maxSizeInMegabytes: 2048,
        maxMessageSizeInKilobytes: 256,
        requiresDuplicateDetection: true,
        requiresSession: false,
        defaultMessageTimeToLive: "P1D",
        deadLetteringOnMessageExpiration: true,
        duplicateDetectionHistoryTimeWindow: "PT1M",
        maxDeliveryCount: 1,
        forwardDeadLetteredMessagesTo: "declared",
        status: "Active",
        messageCount: 0,
        sizeInBytes: 0,
        countDetails: undefined,
      },
    );
    assert.equal(
      broker.platform.broker.namespace(NS)!.queue("queue-messages")!.props.lockDurationMs,
      300_000,
      "the broker serves it at once",
    );

    const [show, table, tsv, yaml] = await Promise.all([
      sb(["queue", "show", "--namespace-name", NS, "-n", "queue-messages"]),
      sb(["queue", "list", "--namespace-name", NS, "-o", "table"]),
      sb(["queue", "list", "--namespace-name", NS, "-o", "tsv"]),
      sb(["queue", "show", "--namespace-name", NS, "-n", "queue-messages", "-o", "yaml"]),
    ]);
    assert.equal(JSON.parse(show.stdout).properties.lockDuration, "PT5M");
    assert.match(table.stdout, /^Name\s+Status\s+LockDuration\s+MaxDeliveryCount/);
    assert.match(table.stdout, /\ndeclared\s+Active\s+PT1M\s+10\s/);
    assert.match(table.stdout, /\nqueue-messages\s+Active\s+PT5M\s+1\s/);
    assert.equal(tsv.stdout.split("\n")[1], "queue-messages\tActive\tPT5M\t1\tfalse\t0\t0\t0");
    assert.match(yaml.stdout, /^id: \/subscriptions\//);
    assert.match(yaml.stdout, /\n {2}lockDuration: PT5M\n/);

    const del = await sb(["queue", "delete", "--namespace-name", NS, "-n", "queue-messages"]);
    assert.equal(del.code, 0, del.stderr);
    const gone = await sb(["queue", "show", "--namespace-name", NS, "-n", "queue-messages"]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `eventjobs: The messaging entity '${NS}:Queue:queue-messages' was not found.\n`);
  });

  it("bad values: one line per problem naming the flag, exit 1, nothing created", async () => {
    const r = await sb([
      "queue",
      "create",
      "--namespace-name",
      NS,
      "-n",
      "bad",
      "--lock-duration",
      "PT10M",
      "--max-delivery-count",
      "0",
      "--forward-to",
      "nowhere",
    ]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      [
        'eventjobs: --lock-duration: "PT10M" — expected an ISO-8601 duration from PT5S to PT5M',
        "--max-delivery-count: 0 — expected an integer from 1 to 2000",
        '--forward-to: "nowhere" — expected the name of a queue declared in the same namespace',
        "",
      ].join("\n"),
    );
    const [flag, ns] = await Promise.all([
      sb(["queue", "create", "--namespace-name", NS, "-n", "bad", "--enable-session", "maybe"]),
      sb(["queue", "list", "--namespace-name", "no-such-namespace"]),
    ]);
    assert.equal(
      flag.stderr,
      "eventjobs: argument --enable-session: invalid choice: 'maybe' (choose from 'false', 'true')\n",
    );
    assert.equal(
      ns.stderr,
      "eventjobs: The Resource 'Microsoft.ServiceBus/namespaces/no-such-namespace' under resource group 'eventjobs' was not found.\n",
    );
    assert.equal(broker.platform.broker.namespace(NS)!.queue("bad"), undefined);
  });

  it("namespace connection-string prints the current one; -o json in az's keys shape", async () => {
    const [def, named, json, list] = await Promise.all([
      sb(["namespace", "connection-string"]),
      sb(["namespace", "connection-string", "--name", NS, "--tls"]),
      sb(["namespace", "connection-string", "--name", NS, "-o", "json"]),
      sb(["namespace", "list", "-o", "table"]),
    ]);
    assert.equal(def.stdout, `${broker.platform.connectionString()}\n`);
    assert.match(
      def.stdout,
      /^Endpoint=sb:\/\/localhost:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;\n$/,
    );
    assert.equal(named.stdout, `${broker.platform.connectionString(NS, { tls: true })}\n`);
    const keys = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(keys), [
      "keyName",
      "primaryKey",
      "secondaryKey",
      "primaryConnectionString",
      "secondaryConnectionString",
    ]);
    assert.equal(keys.primaryConnectionString, broker.platform.connectionString(NS));
    assert.match(list.stdout, /^Name\s+ResourceGroup\s+Location\s+Status\s+Default\s+Queues\n/);
    assert.match(list.stdout, /\nsbemulatorns\s+eventjobs\s+local\s+Active\s+true\s+1\n/);
  });

  it("message send, peek and receive (peeklock completes what it prints; receiveanddelete); the SDK sees the same messages", async () => {
    const client = new ServiceBusClient(broker.platform.connectionString(), RETRY); // the default namespace: localhost;
    try {
      const send = (body: string, extra: string[] = []) =>
        sb(["message", "send", "--namespace-name", "sbemulatorns", "--queue-name", "inbox", "--body", body, ...extra]);
      const first = await send('{"n":1}', [
        "--content-type",
        "application/json",
        "--properties",
        "region=eu",
        "priority=2",
        "urgent=true",
        "--message-id",
        "m-1",
        "--subject",
        "invoice",
      ]);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(JSON.parse(first.stdout), { sequenceNumber: 1, messageId: "m-1" });
      await send("two");
      await send("three");

      const peek = await sb([
        "message",
        "peek",
        "--namespace-name",
        "sbemulatorns",
        "--queue-name",
        "inbox",
        "--count",
        "10",
      ]);
      const peeked = JSON.parse(peek.stdout);
      assert.deepEqual(
        peeked.map((m: any) => [m.sequenceNumber, m.body, m.state]),
        [
          [1, '{"n":1}', "Active"],
          [2, "two", "Active"],
          [3, "three", "Active"],
        ],
      );
      assert.deepEqual(peeked[0].applicationProperties, { region: "eu", priority: 2, urgent: true });
      assert.equal(peeked[0].contentType, "application/json");
      assert.equal(peeked[0].subject, "invoice");

      // what the CLI sent is what an SDK receives
      const [viaSdk] = await client.createReceiver("inbox", { receiveMode: "peekLock" }).peekMessages(1);
      assert.equal(viaSdk.body, '{"n":1}');
      assert.equal(viaSdk.applicationProperties?.region, "eu");

      const received = await sb([
        "message",
        "receive",
        "--namespace-name",
        "sbemulatorns",
        "--queue-name",
        "inbox",
        "--count",
        "2",
        "-o",
        "table",
      ]);
      assert.equal(received.code, 0, received.stderr);
      assert.match(
        received.stdout,
        /^SequenceNumber\s+MessageId\s+EnqueuedTimeUtc\s+DeliveryCount\s+State\s+Body\n[- ]+\n1\s+m-1\s.*\{"n":1\}\n2\s.*two\n$/,
      );
      const rad = await sb([
        "message",
        "receive",
        "--namespace-name",
        "sbemulatorns",
        "--queue-name",
        "inbox",
        "--mode",
        "receiveanddelete",
        "--max-wait-time",
        "1",
      ]);
      assert.deepEqual(
        JSON.parse(rad.stdout).map((m: any) => m.body),
        ["three"],
      );
      assert.equal(JSON.parse(rad.stdout)[0].lockToken, undefined);
      const empty = await sb([
        "message",
        "receive",
        "--namespace-name",
        "sbemulatorns",
        "--queue-name",
        "inbox",
        "--max-wait-time",
        "0",
      ]);
      assert.equal(empty.stdout, "[]\n", "the received messages were completed");
      assert.equal(broker.platform.broker.namespace("sbemulatorns")!.queue("inbox")!.counts().total, 0);

      // the SDK sends, the CLI receives
      await client.createSender("inbox").sendMessages({ body: "from the SDK" });
      const got = await sb([
        "message",
        "receive",
        "--namespace-name",
        "sbemulatorns",
        "--queue-name",
        "inbox",
        "-o",
        "tsv",
      ]);
      assert.match(got.stdout, /\tActive\tfrom the SDK\n$/);
    } finally {
      await client.close();
    }
  });

  it("usage errors and help: one line, exit 1; every command has examples", async () => {
    const [mode, help, missing] = await Promise.all([
      sb(["message", "receive", "--namespace-name", NS, "--queue-name", "declared", "--mode", "peek"]),
      sb(["queue", "create", "--help"]),
      sb(["queue", "create", "-n", "x"]),
    ]);
    assert.equal(
      mode.stderr,
      "eventjobs: argument --mode: invalid choice: 'peek' (choose from 'peeklock', 'receiveanddelete')\n",
    );
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--namespace-name <namespace>/);
    assert.match(
      help.stdout,
      /Examples:\n {2}eventjobs servicebus queue create --namespace-name servicebus-ns-job --name queue-messages/,
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /required option '--namespace-name <namespace>' not specified/);
  });
});
