// The control API's topics, subscriptions and rules (ARM shapes, eventjobs.yaml property names in requests),
// and messages: send to a topic; peek, receive and complete on a subscription. PUT creates or replaces (unset
// properties take the defaults), PATCH changes only the properties given (`az ... update`). What is made here
// is recorded by the broker and survives a restart.
import { QUEUE_DEFAULTS, type SubscriptionProperties, type TopicProperties } from "../model/config.js";
import { QUEUE_SPECS, SUBSCRIPTION_SPECS, TOPIC_SPECS } from "../model/properties.js";
import { Checker, ENTITY_NAME, readProps, resolveRefs, type EntityRef, type PropSpec } from "../model/validate.js";
import type { Broker } from "../servicebus/broker.js";
import type { Namespace } from "../servicebus/entities/namespace.js";
import { BrokerError } from "../servicebus/errors.js";
import { ApiError, jsonBody, type ApiRoute } from "./control.js";
import {
  checkName,
  completeMessages,
  messageFromBody,
  namespaceGroup,
  namespaceOf,
  peekMessages,
  receiveMessages,
  rejectIssues,
  tree,
  useGroup,
} from "./servicebus.js";
import { ruleFromProperties, ruleResource, subscriptionResource, topicResource } from "./topic-arm.js";

type Obj = Record<string, unknown>;

const TOPIC_API_SPECS: PropSpec[] = [
  ...TOPIC_SPECS,
  ...QUEUE_SPECS.filter((s) => s.key === "maxMessageSizeInKilobytes"),
];
const SUBSCRIPTION_API_SPECS: PropSpec[] = SUBSCRIPTION_SPECS;
const TOPIC_DEFAULTS: TopicProperties = {
  defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
  requiresDuplicateDetection: false,
  duplicateDetectionHistoryTimeWindowMs: QUEUE_DEFAULTS.duplicateDetectionHistoryTimeWindowMs,
};
const SUBSCRIPTION_DEFAULTS: SubscriptionProperties = {
  lockDurationMs: QUEUE_DEFAULTS.lockDurationMs,
  maxDeliveryCount: QUEUE_DEFAULTS.maxDeliveryCount,
  defaultMessageTimeToLiveMs: QUEUE_DEFAULTS.defaultMessageTimeToLiveMs,
  deadLetteringOnMessageExpiration: false,
  requiresSession: false,
  deadLetteringOnFilterEvaluationExceptions: false,
};

/** Properties in eventjobs.yaml's names over `base`, checked by the config's rules; "" clears a forwarding. */
function readEntityProps<T extends object>(
  ns: Namespace,
  owner: string,
  input: unknown,
  specs: PropSpec[],
  base: T,
): T {
  const c = new Checker();
  const refs: EntityRef[] = [];
  const given = (input ?? {}) as Obj;
  const props = readProps(c, tree(given), "", specs, base, refs) as Obj;
  for (const k of ["forwardTo", "forwardDeadLetteredMessagesTo"])
    if (given[k] === "" || given[k] === null) delete props[k];
  const targets = new Map([...ns.queueNames(), ...ns.topics.topicNames()].map((q) => [q.toLowerCase(), q] as const));
  resolveRefs(c, owner, props, refs, targets, "a queue or topic");
  rejectIssues(c);
  return props as T;
}

/** The broker's errors as the control API's: 404, 409, 400. */
async function brokerCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof BrokerError)) throw e;
    const status = e.code === "EntityNotFound" ? 404 : e.code === "EntityAlreadyExists" ? 409 : 400;
    throw new ApiError(
      status,
      status === 404 ? "ResourceNotFound" : status === 409 ? "Conflict" : "BadRequest",
      e.message,
    );
  }
}

const CHILD_NAME = {
  test: (s: string) => /^[A-Za-z0-9._-]{1,50}$/.test(s),
  expected: "1-50 letters, digits, periods, hyphens and underscores",
};
const RULE_NAME = {
  test: (s: string) => s === "$Default" || CHILD_NAME.test(s),
  expected: `$Default or ${CHILD_NAME.expected}`,
};

export function registerTopicsApi(route: ApiRoute, broker: Broker): void {
  const nsOf = (name: string) => namespaceOf(broker, name);
  const topicOf = (nsName: string, name: string) => {
    const ns = nsOf(nsName);
    const t = ns.topics.topic(name);
    if (!t)
      throw new ApiError(404, "ResourceNotFound", `The messaging entity '${ns.name}:Topic:${name}' was not found.`);
    return { ns, t };
  };
  const subOf = (nsName: string, topic: string, name: string) => {
    const { ns, t } = topicOf(nsName, topic);
    const s = ns.topics.subscription(t.name, name);
    if (!s)
      throw new ApiError(
        404,
        "ResourceNotFound",
        `The messaging entity '${ns.name}:Topic:${t.name}|${name}' was not found.`,
      );
    return { ns, t, s };
  };
  const ruleOf = (nsName: string, topic: string, sub: string, name: string) => {
    const { ns, t, s } = subOf(nsName, topic, sub);
    const r = ns.topics.getRule(t.name, s.name, name);
    if (!r)
      throw new ApiError(404, "ResourceNotFound", `The messaging entity '${s.path}/Rules/${name}' was not found.`);
    return { ns, t, s, r };
  };
  const rg = (ns: Namespace) => namespaceGroup(broker, ns.name);
  const topicRes = (ns: Namespace, name: string) => topicResource(ns.name, ns.topics.getTopic(name)!, rg(ns));
  const subRes = (ns: Namespace, topic: string, name: string) =>
    subscriptionResource(ns.name, ns.topics.getSubscription(topic, name)!, rg(ns));

  const T = "/servicebus/namespaces/:ns/topics";
  route("GET", T, (req) => {
    const ns = nsOf(req.params.ns);
    const names = ns.topics.topicNames().sort((a, b) => a.localeCompare(b));
    return { value: names.map((n) => topicRes(ns, n)) };
  });
  route("GET", `${T}/:topic`, (req) => {
    const { ns, t } = topicOf(req.params.ns, req.params.topic);
    return topicRes(ns, t.name);
  });
  route("PUT", `${T}/:topic`, async (req) => {
    const ns = nsOf(req.params.ns);
    const name = req.params.topic;
    checkName(name, ENTITY_NAME);
    const body = await jsonBody(req, true);
    const props = readEntityProps(ns, name, body.properties, TOPIC_API_SPECS, TOPIC_DEFAULTS);
    await useGroup(broker, ns, body.resourceGroup);
    const created = !ns.topics.topic(name);
    await brokerCall<unknown>(() =>
      created ? ns.topics.createTopic(name, props) : ns.topics.updateTopic(name, props),
    );
    return { ...topicRes(ns, ns.topics.topic(name)!.name), created };
  });
  route("PATCH", `${T}/:topic`, async (req) => {
    const { ns, t } = topicOf(req.params.ns, req.params.topic);
    const body = await jsonBody(req, true);
    const props = readEntityProps(ns, t.name, body.properties, TOPIC_API_SPECS, { ...t.props });
    await useGroup(broker, ns, body.resourceGroup);
    await brokerCall(() => ns.topics.updateTopic(t.name, props));
    return topicRes(ns, t.name);
  });
  route("DELETE", `${T}/:topic`, async (req) => {
    const { ns, t } = topicOf(req.params.ns, req.params.topic);
    await ns.topics.deleteTopic(t.name);
    return undefined;
  });
  route("POST", `${T}/:topic/messages`, async (req) => {
    const { t } = topicOf(req.params.ns, req.params.topic);
    const msg = messageFromBody(await jsonBody(req), "");
    const [seq] = await brokerCall(() => t.send([msg]));
    return { sequenceNumber: seq, messageId: msg.messageId };
  });

  const S = `${T}/:topic/subscriptions`;
  route("GET", S, (req) => {
    const { ns, t } = topicOf(req.params.ns, req.params.topic);
    const names = ns.topics.subscriptionNames(t.name).sort((a, b) => a.localeCompare(b));
    return { value: names.map((n) => subRes(ns, t.name, n)) };
  });
  route("GET", `${S}/:sub`, (req) => {
    const { ns, t, s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    return subRes(ns, t.name, s.name);
  });
  route("PUT", `${S}/:sub`, async (req) => {
    const { ns, t } = topicOf(req.params.ns, req.params.topic);
    const name = req.params.sub;
    checkName(name, CHILD_NAME);
    const body = await jsonBody(req, true);
    const props = readEntityProps(ns, t.name, body.properties, SUBSCRIPTION_API_SPECS, SUBSCRIPTION_DEFAULTS);
    await useGroup(broker, ns, body.resourceGroup);
    const created = !ns.topics.subscription(t.name, name);
    await brokerCall<unknown>(() =>
      created ? ns.topics.createSubscription(t.name, name, props) : ns.topics.updateSubscription(t.name, name, props),
    );
    return { ...subRes(ns, t.name, ns.topics.subscription(t.name, name)!.name), created };
  });
  route("PATCH", `${S}/:sub`, async (req) => {
    const { ns, t, s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    const body = await jsonBody(req, true);
    const base = { ...s.subscriptionProps };
    const props = readEntityProps(ns, t.name, body.properties, SUBSCRIPTION_API_SPECS, base);
    await useGroup(broker, ns, body.resourceGroup);
    await brokerCall(() => ns.topics.updateSubscription(t.name, s.name, props));
    return subRes(ns, t.name, s.name);
  });
  route("DELETE", `${S}/:sub`, async (req) => {
    const { ns, t, s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    await ns.topics.deleteSubscription(t.name, s.name);
    return undefined;
  });
  route("GET", `${S}/:sub/messages`, (req) =>
    peekMessages(subOf(req.params.ns, req.params.topic, req.params.sub).s, req.query),
  );
  route("POST", `${S}/:sub/messages/receive`, async (req) => {
    const { s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    return receiveMessages(s, await jsonBody(req, true), `subscription '${s.name}'`);
  });
  route("POST", `${S}/:sub/messages/complete`, async (req) =>
    completeMessages(subOf(req.params.ns, req.params.topic, req.params.sub).s, await jsonBody(req)),
  );

  const R = `${S}/:sub/rules`;
  const ruleRes = (ns: Namespace, topic: string, sub: string, name: string) =>
    ruleResource(ns.name, topic, sub, ns.topics.getRule(topic, sub, name)!, rg(ns));
  const ruleInput = async (
    req: Parameters<Parameters<ApiRoute>[2]>[0],
    current?: Parameters<typeof ruleFromProperties>[1],
  ) => {
    const body = await jsonBody(req, true);
    try {
      return ruleFromProperties((body.properties ?? {}) as Obj, current);
    } catch (e) {
      throw new ApiError(400, "InvalidParameter", (e as Error).message);
    }
  };
  route("GET", R, (req) => {
    const { ns, t, s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    return { value: ns.topics.rules(t.name, s.name).map((r) => ruleRes(ns, t.name, s.name, r.name)) };
  });
  route("GET", `${R}/:rule`, (req) => {
    const { ns, t, s, r } = ruleOf(req.params.ns, req.params.topic, req.params.sub, req.params.rule);
    return ruleRes(ns, t.name, s.name, r.name);
  });
  route("PUT", `${R}/:rule`, async (req) => {
    const { ns, t, s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    const name = req.params.rule;
    checkName(name, RULE_NAME);
    const rule = { name, ...(await ruleInput(req)) };
    const created = !ns.topics.getRule(t.name, s.name, name);
    await brokerCall(() =>
      created ? ns.topics.createRule(t.name, s.name, rule) : ns.topics.updateRule(t.name, s.name, rule),
    );
    return { ...ruleRes(ns, t.name, s.name, name), created };
  });
  route("PATCH", `${R}/:rule`, async (req) => {
    const { ns, t, s, r: current } = ruleOf(req.params.ns, req.params.topic, req.params.sub, req.params.rule);
    const rule = { name: current.name, ...(await ruleInput(req, current)) };
    await brokerCall(() => ns.topics.updateRule(t.name, s.name, rule));
    return ruleRes(ns, t.name, s.name, current.name);
  });
  route("DELETE", `${R}/:rule`, async (req) => {
    const { ns, t, s } = subOf(req.params.ns, req.params.topic, req.params.sub);
    await brokerCall(async () => ns.topics.deleteRule(t.name, s.name, req.params.rule));
    return undefined;
  });
}
