// `eventjobs servicebus namespace|queue|message ...`: az's Service Bus commands (and the data-plane
// message commands az lacks) against the running server's control API.
import type { Command } from "commander";
import { ApiClient, addAzCommandOptions, addDataDirOption } from "./client.js";
import { checkFormat, print, type Column } from "./output.js";
import { registerAuthorizationRules } from "./servicebus-rules.js";
import { flagProperties, int } from "./az-args.js";
import {
  addEntityFlags,
  ENTITY_FLAGS,
  RECEIVE_ENTITY_COLUMNS,
  specsOf,
  writeEntity,
  type EntityFlag,
} from "./servicebus-entity.js";
import { NAMESPACE_COLUMNS, registerNamespaceWrites } from "./servicebus-namespace.js";
import { registerTopics } from "./servicebus-topics.js";
import { fail } from "./util.js";

type Obj = Record<string, any>;

const QUEUE_COLUMNS = RECEIVE_ENTITY_COLUMNS;
const MESSAGE_COLUMNS: Column[] = [
  { header: "SequenceNumber", get: (m) => m.sequenceNumber },
  { header: "MessageId", get: (m) => m.messageId },
  { header: "EnqueuedTimeUtc", get: (m) => m.enqueuedTimeUtc },
  { header: "DeliveryCount", get: (m) => m.deliveryCount },
  { header: "State", get: (m) => m.state },
  { header: "Body", get: (m) => m.body },
];

const enc = encodeURIComponent;
/** -g as the namespace routes take it: a namespace recorded in another group is not found there, as in Azure. */
const inGroup = (o: Obj) => (o.resourceGroup ? `?resourceGroup=${enc(o.resourceGroup)}` : "");
const queuePath = (o: Obj, name = o.name) => `/servicebus/namespaces/${enc(o.namespaceName)}/queues/${enc(name)}`;

const F = ENTITY_FLAGS;
/** The create flags, in az's order (the server checks ranges under the properties' names). */
const QUEUE_FLAGS: EntityFlag[] = [
  F.lockDuration,
  F.maxDeliveryCount,
  { ...F.defaultMessageTimeToLive, help: "ISO-8601 (default P10675199DT2H48M5.4775807S: never)" },
  F.deadLetteringOnMessageExpiration,
  F.requiresSession,
  F.requiresDuplicateDetection,
  F.duplicateDetectionHistoryTimeWindow,
  { ...F.forwardTo, arg: "<queue>", help: "forward every message to this queue" },
  { ...F.forwardDeadLetteredMessagesTo, arg: "<queue>", help: "forward dead-lettered messages to this queue" },
  F.maxSizeInMegabytes,
  F.maxMessageSizeInKilobytes,
];
const QUEUE_SPECS = specsOf(QUEUE_FLAGS);
/** az's queue update has no --enable-session or --enable-duplicate-detection: Service Bus fixes them at creation. */
const QUEUE_UPDATE_FLAGS = QUEUE_FLAGS.filter((f) => f !== F.requiresSession && f !== F.requiresDuplicateDetection);
const QUEUE_UPDATE_SPECS = specsOf(QUEUE_UPDATE_FLAGS);

export function registerServiceBus(program: Command): void {
  const sb = program
    .command("servicebus")
    .description("Service Bus namespaces, queues, topics and messages on the running server");
  registerNamespace(sb);
  registerQueue(sb);
  registerTopics(sb);
  registerMessage(sb);
}

function registerNamespace(sb: Command): void {
  const ns = sb
    .command("namespace")
    .description("Namespaces (declared in eventjobs.yaml, or made with namespace create)");
  registerNamespaceWrites(ns);
  registerAuthorizationRules(ns, "namespace");
  addAzCommandOptions(ns.command("list"))
    .description("List the namespaces")
    .addHelpText("after", "\nExamples:\n  eventjobs servicebus namespace list -o table\n")
    .action(async (o: Obj) =>
      print(
        (await new ApiClient(o.dataDir).request("GET", `/servicebus/namespaces${inGroup(o)}`)).value,
        o.output,
        NAMESPACE_COLUMNS,
      ),
    );
  addAzCommandOptions(ns.command("show"))
    .description("Show a namespace")
    .requiredOption("-n, --name <namespace>", "the namespace")
    .addHelpText("after", "\nExamples:\n  eventjobs servicebus namespace show -n servicebus-ns-job\n")
    .action(async (o: Obj) =>
      print(
        await new ApiClient(o.dataDir).request("GET", `/servicebus/namespaces/${enc(o.name)}${inGroup(o)}`),
        o.output,
        NAMESPACE_COLUMNS,
      ),
    );
  addDataDirOption(ns.command("connection-string"))
    .description("Print the namespace's connection string (the emulator's well-known one for the default namespace)")
    .option("-n, --name <namespace>", "the namespace (default: the default namespace)")
    .option("--tls", "the AMQPS form (no UseDevelopmentEmulator), for clients that trust the local CA")
    .option(
      "-o, --output <format>",
      "tsv (the string alone), json or yaml (az's `authorization-rule keys list` shape)",
      "tsv",
    )
    .option("--query <jmespath>", "JMESPath query over the keys list shape (then -o formats the result)")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus namespace connection-string\n  export SB=$(eventjobs servicebus namespace connection-string --name servicebus-ns-job)\n  eventjobs servicebus namespace connection-string --tls -o json\n",
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      const api = new ApiClient(o.dataDir);
      const name =
        o.name ??
        (await api.request("GET", "/servicebus/namespaces")).value.find((n: Obj) => n.properties.isDefault).name;
      const keys = await api.request("GET", `/servicebus/namespaces/${enc(name)}/keys${o.tls ? "?tls=true" : ""}`);
      if (o.query === undefined && (o.output === "tsv" || o.output === "table"))
        console.log(keys.primaryConnectionString);
      else print(keys, o.output, []);
    });
}

function registerQueue(sb: Command): void {
  const queue = sb.command("queue").description("Queues: create, update, show, list, delete (az servicebus queue)");
  registerAuthorizationRules(queue, "queue");
  const withNs = (cmd: Command) =>
    addAzCommandOptions(cmd).requiredOption("--namespace-name <namespace>", "the namespace");
  const create = withNs(queue.command("create"))
    .description("Create a queue, or replace an existing queue's properties (unset ones take the defaults)")
    .requiredOption("-n, --name <name>", "the queue");
  addEntityFlags(create, QUEUE_FLAGS)
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus queue create --namespace-name servicebus-ns-job --name queue-messages --lock-duration PT5M --max-delivery-count 1\n  eventjobs servicebus queue create --namespace-name sbemulatorns -n orders --enable-session true -o table\n",
    )
    .action((o: Obj) =>
      writeEntity(o, "PUT", queuePath(o), flagProperties(o, QUEUE_SPECS), QUEUE_SPECS, QUEUE_COLUMNS),
    );
  const update = withNs(queue.command("update"))
    .description('Change a queue\'s properties: only the flags given change (--forward-to "" stops forwarding)')
    .requiredOption("-n, --name <name>", "the queue");
  addEntityFlags(update, QUEUE_UPDATE_FLAGS)
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus queue update --namespace-name servicebus-ns-job -n queue-messages --max-delivery-count 5\n  eventjobs servicebus queue update --namespace-name sbemulatorns -n orders --forward-to archive -o table\n",
    )
    .action((o: Obj) =>
      writeEntity(o, "PATCH", queuePath(o), flagProperties(o, QUEUE_UPDATE_SPECS), QUEUE_UPDATE_SPECS, QUEUE_COLUMNS),
    );
  withNs(queue.command("show"))
    .description("Show a queue with its message counts")
    .requiredOption("-n, --name <name>", "the queue")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus queue show --namespace-name servicebus-ns-job -n queue-messages\n  eventjobs servicebus queue show --namespace-name servicebus-ns-job -n queue-messages --output yaml\n",
    )
    .action(async (o: Obj) =>
      print(await new ApiClient(o.dataDir).request("GET", queuePath(o)), o.output, QUEUE_COLUMNS),
    );
  withNs(queue.command("list"))
    .description("List a namespace's queues")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus queue list --namespace-name servicebus-ns-job -o table\n",
    )
    .action(async (o: Obj) =>
      print(
        (await new ApiClient(o.dataDir).request("GET", `/servicebus/namespaces/${enc(o.namespaceName)}/queues`)).value,
        o.output,
        QUEUE_COLUMNS,
      ),
    );
  withNs(queue.command("delete"))
    .description("Delete a queue and its messages")
    .requiredOption("-n, --name <name>", "the queue")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus queue delete --namespace-name servicebus-ns-job -n queue-messages\n",
    )
    .action(async (o: Obj) => {
      await new ApiClient(o.dataDir).request("DELETE", queuePath(o));
    });
}

/** Where a message command goes: a queue, a topic (send) or a topic's subscription (peek, receive). */
function entityPath(o: Obj, verb: "send" | "peek" | "receive"): string {
  const ns = `/servicebus/namespaces/${enc(o.namespaceName)}`;
  if (o.queueName !== undefined && o.topicName !== undefined) fail("give --queue-name or --topic-name, not both");
  if (o.queueName !== undefined) {
    if (o.subscriptionName !== undefined) fail("--subscription-name goes with --topic-name, not --queue-name");
    return queuePath(o, o.queueName);
  }
  if (o.topicName === undefined)
    fail(
      `the following arguments are required: --queue-name, or --topic-name${verb === "send" ? "" : " and --subscription-name"}`,
    );
  if (verb === "send") return `${ns}/topics/${enc(o.topicName)}`;
  if (o.subscriptionName === undefined)
    fail("the following arguments are required: --subscription-name (with --topic-name)");
  return `${ns}/topics/${enc(o.topicName)}/subscriptions/${enc(o.subscriptionName)}`;
}

function registerMessage(sb: Command): void {
  const message = sb
    .command("message")
    .description("Messages: send, peek, receive (data plane; az has no such commands)");
  const withQueue = (cmd: Command) =>
    addAzCommandOptions(cmd)
      .requiredOption("--namespace-name <namespace>", "the namespace")
      .option("--queue-name <queue>", "the queue")
      .option("--topic-name <topic>", "the topic (instead of a queue)");
  withQueue(message.command("send"))
    .description("Send one message")
    .requiredOption("--body <text>", "the message body (sent as a string, as the SDKs send strings)")
    .option("--properties <pairs...>", "application properties KEY=VALUE (numbers and true/false keep their type)")
    .option("--content-type <type>", "content type, e.g. application/json")
    .option("--message-id <id>", "message id (default: a new GUID)")
    .option("--subject <subject>", "subject (label)")
    .option("--correlation-id <id>", "correlation id")
    .option("--session-id <id>", "session id (required by session queues)")
    .addHelpText(
      "after",
      '\nExamples:\n  eventjobs servicebus message send --namespace-name servicebus-ns-job --queue-name queue-messages --body "hello"\n  eventjobs servicebus message send --namespace-name sbemulatorns --queue-name orders --body \'{"id":1}\' --content-type application/json --properties region=eu priority=2\n  eventjobs servicebus message send --namespace-name sbemulatorns --topic-name orders --body "for every subscription" --subject eu\n',
    )
    .action(async (o: Obj) => {
      const applicationProperties: Obj = {};
      for (const p of o.properties ?? []) {
        const i = p.indexOf("=");
        if (i <= 0) fail(`--properties "${p}": expected KEY=VALUE`);
        const v = p.slice(i + 1);
        applicationProperties[p.slice(0, i)] = /^-?\d+(\.\d+)?$/.test(v)
          ? Number(v)
          : v === "true"
            ? true
            : v === "false"
              ? false
              : v;
      }
      const body = {
        body: o.body,
        contentType: o.contentType,
        messageId: o.messageId,
        subject: o.subject,
        correlationId: o.correlationId,
        sessionId: o.sessionId,
        ...(o.properties ? { applicationProperties } : {}),
      };
      print(await new ApiClient(o.dataDir).request("POST", `${entityPath(o, "send")}/messages`, body), o.output, [
        { header: "SequenceNumber", get: (m) => m.sequenceNumber },
        { header: "MessageId", get: (m) => m.messageId },
      ]);
    });
  withQueue(message.command("peek"))
    .option("--subscription-name <subscription>", "the topic's subscription (with --topic-name)")
    .description("Show messages without locking or removing them (locked, deferred and scheduled ones included)")
    .option("--count <n>", "how many, 1-1000", "1")
    .option("--from-sequence-number <n>", "start at this sequence number", "0")
    .option("--dead-letter", "peek the queue's dead-letter queue")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus message peek --namespace-name servicebus-ns-job --queue-name queue-messages --count 10 -o table\n  eventjobs servicebus message peek --namespace-name sbemulatorns --queue-name orders --dead-letter\n  eventjobs servicebus message peek --namespace-name sbemulatorns --topic-name orders --subscription-name audit --count 10\n",
    )
    .action(async (o: Obj) => {
      const q = new URLSearchParams({
        count: String(int("--count", o.count)),
        from: String(int("--from-sequence-number", o.fromSequenceNumber)),
      });
      if (o.deadLetter) q.set("deadLetter", "true");
      print(
        (await new ApiClient(o.dataDir).request("GET", `${entityPath(o, "peek")}/messages?${q}`)).value,
        o.output,
        MESSAGE_COLUMNS,
      );
    });
  withQueue(message.command("receive"))
    .option("--subscription-name <subscription>", "the topic's subscription (with --topic-name)")
    .description(
      "Receive messages: peeklock prints them, then completes them (a message whose print fails comes back when its lock expires)",
    )
    .option("--count <n>", "at most this many, 1-1000", "1")
    .option("--mode <mode>", "peeklock or receiveanddelete", "peeklock")
    .option("--max-wait-time <seconds>", "how long to wait for the first message", "5")
    .addHelpText(
      "after",
      "\nExamples:\n  eventjobs servicebus message receive --namespace-name servicebus-ns-job --queue-name queue-messages\n  eventjobs servicebus message receive --namespace-name sbemulatorns --queue-name orders --count 10 --mode receiveanddelete -o table\n  eventjobs servicebus message receive --namespace-name sbemulatorns --topic-name orders --subscription-name audit\n",
    )
    .action(async (o: Obj) => {
      checkFormat(o.output);
      const mode = String(o.mode).toLowerCase();
      if (mode !== "peeklock" && mode !== "receiveanddelete")
        fail(`argument --mode: invalid choice: '${o.mode}' (choose from 'peeklock', 'receiveanddelete')`);
      const api = new ApiClient(o.dataDir);
      const path = entityPath(o, "receive");
      const got = (
        await api.request("POST", `${path}/messages/receive`, {
          count: int("--count", o.count),
          mode: mode === "peeklock" ? "peekLock" : "receiveAndDelete",
          waitSeconds: int("--max-wait-time", o.maxWaitTime),
        })
      ).value as Obj[];
      print(
        got.map(({ lockToken: _t, lockedUntilUtc: _u, ...m }) => m),
        o.output,
        MESSAGE_COLUMNS,
      );
      const tokens = got.map((m) => m.lockToken).filter(Boolean);
      if (tokens.length) await api.request("POST", `${path}/messages/complete`, { lockTokens: tokens });
    });
}
