// HTTP routing of the ATOM admin API (served on 5300 like the MS emulator, and on the HTTPS ports):
//   GET /$namespaceinfo · GET /$Resources/Queues?$skip&$top · GET /$Resources/Topics
//   GET | PUT (create; update with If-Match: *) | DELETE /<queue> and /<topic> (a PUT's body says which)
//   GET /<topic>/Subscriptions · GET | PUT | DELETE /<topic>/Subscriptions/<sub>
//   GET /<topic>/Subscriptions/<sub>/Rules · GET | PUT | DELETE /<topic>/Subscriptions/<sub>/Rules/<rule>
// The namespace comes from the Host header, as on the AMQP side. Errors are the service's <Error> bodies.
import type { ServerResponse } from "node:http";
import { readBody, type Request, type Router } from "../../http/router.js";
import type { Broker } from "../broker.js";
import { CONTENT_TYPE_ENTRY, CONTENT_TYPE_ERROR, CONTENT_TYPE_FEED, errorBody, type Origin } from "./atom.js";
import { requireManage, sasAuthorize, type AdminAction, type AdminAuthorizer } from "./auth.js";
import { BrokerError } from "../errors.js";
import { AdminError } from "./description.js";
import { contentOf, parseBody } from "./fields.js";
import { AdminOperations } from "./handlers.js";
import { TopicAdminOperations } from "./topic-handlers.js";

export interface AdminApiOptions {
  /** authenticates requests; default: SAS against the namespace's policies (sasAuthorize) */
  authorize?: AdminAuthorizer;
}

/**
 * Every path not owned by another component is an entity path (queue names may contain slashes), so the
 * catch-all leaves the platform's own prefixes alone. Register it after the platform's other routes.
 */
const ENTITY_PATH =
  /^\/(?!(?:api|assets|dashboard|metadata|msi)(?:\/|$)|health$|\$servicebus\/|favicon\.ico$)(?<path>.+)$/i;
const SUBSCRIPTIONS = /^(?<topic>.+?)\/subscriptions(?:\/(?<sub>[^/]+)(?:(?<rules>\/rules)(?:\/(?<rule>[^/]+))?)?)?$/i;
/** PUT bodies are small XML documents */
const MAX_BODY = 256 * 1024;

export function registerAdminApi(router: Router, broker: Broker, opts: AdminApiOptions = {}): AdminOperations {
  const ops = new AdminOperations(broker);
  const topics = new TopicAdminOperations(broker);
  const authorize = opts.authorize ?? sasAuthorize;
  router.on("*", ENTITY_PATH, (req, res) => handle(req, res, broker, { ops, topics }, authorize));
  return ops;
}

function send(res: ServerResponse, status: number, contentType: string | undefined, body: string): void {
  if (res.headersSent || res.destroyed) return; // the client went away while the request was handled
  const headers: Record<string, string | number> = { "content-length": Buffer.byteLength(body) };
  if (contentType) headers["content-type"] = contentType;
  res.writeHead(status, headers);
  res.end(body);
}

async function handle(
  req: Request,
  res: ServerResponse,
  broker: Broker,
  { ops, topics }: { ops: AdminOperations; topics: TopicAdminOperations },
  authorize: AdminAuthorizer,
): Promise<void> {
  const host = req.headers.host ?? "localhost";
  const hostName = host.replace(/:\d+$/, "");
  const path = (req.params.path ?? "").replace(/\/+$/, "");
  let tracker = "NoSystemTracker";
  try {
    const ns = broker.namespaceForHost(host);
    if (!ns)
      throw new AdminError(
        "EntityNotFound",
        `The namespace for host '${host}' could not be found. Define it in the config or connect to localhost.`,
      );
    const origin: Origin = { base: `${req.secure ? "https" : "http"}://${host}`, host, namespace: ns.name };
    const auth = async (action: AdminAction, check = true) => {
      const principal = await authorize(req, { namespace: ns, resource: path, action });
      if (check) requireManage(principal, action);
      return principal;
    };
    const method = req.method ?? "GET";
    const lower = path.toLowerCase();

    if (lower === "$namespaceinfo" || lower === "$resources/queues" || lower === "$resources/topics") {
      if (method !== "GET")
        throw new AdminError("MethodNotAllowed", `The ${method} method is not allowed on '/${path}'.`);
      await auth("read");
      if (lower === "$namespaceinfo") return send(res, 200, CONTENT_TYPE_ENTRY, ops.namespaceInfo(origin));
      const body =
        lower === "$resources/queues"
          ? ops.listQueues(origin, ns, req.query)
          : topics.listTopics(origin, ns, req.query);
      return send(res, 200, CONTENT_TYPE_FEED, body);
    }

    const sub = SUBSCRIPTIONS.exec(path);
    if (sub) {
      const g = sub.groups!;
      tracker = `${hostName}:Topic:${g.topic}${g.sub ? `|${g.sub}` : ""}${g.rule ? `|${g.rule}` : ""}`;
      await auth(method === "GET" ? "read" : method === "DELETE" ? "delete" : "write");
      if (!g.sub || (g.rules && !g.rule)) {
        if (method !== "GET")
          throw new AdminError("MethodNotAllowed", `The ${method} method is not allowed on '/${path}'.`);
        const body = g.sub
          ? topics.listRules(origin, ns, g.topic, g.sub, req.query)
          : topics.listSubscriptions(origin, ns, g.topic, req.query);
        return send(res, 200, CONTENT_TYPE_FEED, body);
      }
      const update = req.headers["if-match"] === "*";
      switch (method) {
        case "GET":
          return send(
            res,
            200,
            CONTENT_TYPE_ENTRY,
            g.rule
              ? topics.getRule(origin, ns, g.topic, g.sub, g.rule)
              : topics.getSubscription(origin, ns, g.topic, g.sub),
          );
        case "PUT": {
          const desc = contentOf(parseBody((await readBody(req, MAX_BODY)).toString("utf8")));
          const out = g.rule
            ? await topics.putRule(origin, ns, g.topic, g.sub, g.rule, desc, update)
            : await topics.putSubscription(origin, ns, g.topic, g.sub, desc, update);
          return send(res, out.status, CONTENT_TYPE_ENTRY, out.body);
        }
        case "DELETE":
          if (g.rule) await topics.deleteRule(ns, g.topic, g.sub, g.rule);
          else await topics.deleteSubscription(ns, g.topic, g.sub);
          return send(res, 200, undefined, "");
        default:
          throw new AdminError("MethodNotAllowed", `The ${method} method is not allowed on '/${path}'.`);
      }
    }

    // a PUT's body says whether it creates a queue or a topic
    let body: string | undefined;
    if (method === "PUT") {
      await auth("write");
      body = (await readBody(req, MAX_BODY)).toString("utf8");
    }
    const isTopic =
      body === undefined ? topics.topicExists(ns, path) : contentOf(parseBody(body))?.name === "TopicDescription";
    if (isTopic) {
      tracker = `${hostName}:Topic:${path}`;
      switch (method) {
        case "GET":
          await auth("read");
          return send(res, 200, CONTENT_TYPE_ENTRY, topics.getTopic(origin, ns, path));
        case "PUT": {
          const desc = contentOf(parseBody(body ?? ""));
          const out = await topics.putTopic(origin, ns, path, desc, req.headers["if-match"] === "*");
          return send(res, out.status, CONTENT_TYPE_ENTRY, out.body);
        }
        case "DELETE":
          await auth("delete");
          await topics.deleteTopic(ns, path);
          return send(res, 200, undefined, "");
        default:
          throw new AdminError("MethodNotAllowed", `The ${method} method is not allowed on '/${path}'.`);
      }
    }

    tracker = `${hostName}:Queue:${path}`;
    switch (method) {
      case "GET": {
        // like the service: a missing entity is reported before the caller's rights are checked
        const principal = await auth("read", false);
        if (ops.exists(ns, path)) requireManage(principal, "read");
        return send(res, 200, CONTENT_TYPE_ENTRY, ops.getQueue(origin, ns, path));
      }
      case "PUT": {
        const update = req.headers["if-match"] === "*";
        const out = await ops.putQueue(origin, ns, path, body ?? "", update);
        return send(res, out.status, CONTENT_TYPE_ENTRY, out.body);
      }
      case "DELETE":
        await auth("delete");
        await ops.deleteQueue(origin, ns, path);
        return send(res, 200, undefined, "");
      default:
        throw new AdminError("MethodNotAllowed", `The ${method} method is not allowed on '/${path}'.`);
    }
  } catch (e) {
    // the body reader fails with status 413; anything else that is not an AdminError is a bug
    const err =
      e instanceof BrokerError
        ? e
        : (e as { status?: number })?.status === 413
          ? new AdminError("RequestTooLarge", (e as Error).message)
          : new AdminError("InternalError", `Internal error: ${(e as Error)?.message ?? e}`);
    if (res.headersSent) res.destroy();
    else send(res, err.status, CONTENT_TYPE_ERROR, errorBody(err.status, err.message, tracker));
  }
}
