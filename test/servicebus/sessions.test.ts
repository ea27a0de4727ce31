// Black-box: sessions through @azure/service-bus — acceptSession / acceptNextSession, per-session delivery and
// order, settlement of session messages, session state (durable), session lock renewal and expiry, and the
// service's errors (session-cannot-be-locked, timeout, session-lock-lost, entities that disagree about sessions).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isServiceBusError, ServiceBusClient, type ServiceBusSessionReceiver } from "@azure/service-bus";
import { queuesYaml, startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { waitFor } from "../helpers/jobs.js";
import { peekAll, RETRY, receiveN, waitUntil } from "../helpers/sdk.js";

type QueueProps = Record<string, unknown>;
const queues: Record<string, QueueProps> = {};
function queue(props: QueueProps = { requiresSession: true }): string {
  const name = uniqueName("sq");
  queues[name] = props;
  return name;
}

const Q = {
  named: queue(),
  settle: queue(),
  next: queue(),
  waiting: queue(),
  empty: queue(),
  locked: queue(),
  state: queue(),
  renew: queue({ requiresSession: true, lockDuration: "PT5S" }),
  expiry: queue({ requiresSession: true, lockDuration: "PT5S" }),
  close: queue(),
  plain: queue({}),
};

let broker: TestBroker;
let client: ServiceBusClient;
const dataDir = `${process.env.TMPDIR ?? "/tmp"}/eventjobs-sessions-${process.pid}`;

before(async () => {
  broker = await startBroker(queuesYaml(queues), { dataDir });
  client = new ServiceBusClient(broker.connectionString, RETRY);
});

after(async () => {
  await client?.close();
  await broker?.close();
  const { rmSync } = await import("node:fs");
  rmSync(dataDir, { recursive: true, force: true });
});

async function send(q: string, items: Array<[sessionId: string, body: string]>): Promise<void> {
  const sender = client.createSender(q);
  await sender.sendMessages(items.map(([sessionId, body]) => ({ sessionId, body })));
  await sender.close();
}

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return {
      code: isServiceBusError(e) ? e.code : (e as { code?: string }).code,
      message: String((e as Error).message),
    };
  }
  assert.fail("expected an error");
}

describe("sessions with @azure/service-bus", () => {
  test("acceptSession: only that session's messages, in order, with sessionId and lockedUntilUtc", async () => {
    await send(Q.named, [
      ["a", "a1"],
      ["b", "b1"],
      ["a", "a2"],
      ["b", "b2"],
      ["a", "a3"],
    ]);
    const r = await client.acceptSession(Q.named, "a");
    try {
      assert.equal(r.sessionId, "a");
      assert.ok(
        r.sessionLockedUntilUtc && r.sessionLockedUntilUtc.getTime() > Date.now(),
        "locked until a future time",
      );
      const got = await receiveN(r, 3);
      assert.deepEqual(
        got.map((m) => m.body),
        ["a1", "a2", "a3"],
      );
      assert.ok(got.every((m) => m.sessionId === "a"));
      for (const m of got) await r.completeMessage(m);
      assert.deepEqual(await r.receiveMessages(5, { maxWaitTimeInMs: 300 }), [], "nothing from session b");
    } finally {
      await r.close();
    }
    const rest = await peekAll(client, Q.named);
    assert.deepEqual(
      rest.map((m) => m.body),
      ["b1", "b2"],
    );
  });

  test("settlement of session messages: abandon, dead-letter, defer + receiveDeferredMessages, complete", async () => {
    await send(Q.settle, [
      ["s", "abandon-me"],
      ["s", "dead-letter-me"],
      ["s", "defer-me"],
    ]);
    const r = await client.acceptSession(Q.settle, "s");
    try {
      const [a, d, f] = await receiveN(r, 3);
      await r.abandonMessage(a);
      await r.deadLetterMessage(d, { deadLetterReason: "bad", deadLetterErrorDescription: "in a session" });
      await r.deferMessage(f);
      const again = await receiveN(r, 1);
      assert.equal(again[0].body, "abandon-me");
      assert.equal(again[0].deliveryCount, 1, "abandon counts a delivery");
      await r.completeMessage(again[0]);
      const [deferred] = await r.receiveDeferredMessages(f.sequenceNumber!);
      assert.equal(deferred.body, "defer-me");
      await r.completeMessage(deferred); // through $management update-disposition with the session id
    } finally {
      await r.close();
    }
    assert.deepEqual(await peekAll(client, Q.settle), []);
    const dlq = await peekAll(client, Q.settle, "deadLetter");
    assert.deepEqual(
      dlq.map((m) => [m.body, m.deadLetterReason, m.sessionId]),
      [["dead-letter-me", "bad", "s"]],
    );
  });

  test("acceptNextSession: each receiver gets a different session that has messages", async () => {
    await send(Q.next, [
      ["x", "x1"],
      ["y", "y1"],
      ["x", "x2"],
    ]);
    const r1 = await client.acceptNextSession(Q.next);
    const r2 = await client.acceptNextSession(Q.next);
    try {
      assert.deepEqual([r1.sessionId, r2.sessionId].sort(), ["x", "y"]);
      const bodies = async (r: ServiceBusSessionReceiver) =>
        (await receiveN(r, r.sessionId === "x" ? 2 : 1)).map((m) => m.body);
      assert.deepEqual(await bodies(r1), r1.sessionId === "x" ? ["x1", "x2"] : ["y1"]);
      assert.deepEqual(await bodies(r2), r2.sessionId === "x" ? ["x1", "x2"] : ["y1"]);
    } finally {
      await r1.close();
      await r2.close();
    }
  });

  test("acceptNextSession waits for a session: a message sent meanwhile ends the wait", async () => {
    const accepting = client.acceptNextSession(Q.waiting);
    const sessions = broker.platform.broker.namespace("sbemulatorns")!.queue(Q.waiting)!.sessions!;
    await waitFor("the broker to hold the attach", () => sessions.waiting === 1);
    await send(Q.waiting, [["late", "arrived"]]);
    const r = await accepting;
    try {
      assert.equal(r.sessionId, "late");
      assert.equal((await receiveN(r, 1))[0].body, "arrived");
    } finally {
      await r.close();
    }
  });

  test("acceptNextSession with no session available: the service's timeout error (ServiceTimeout)", async () => {
    const quick = new ServiceBusClient(broker.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 1500 } });
    try {
      const started = Date.now();
      const e = await errorOf(quick.acceptNextSession(Q.empty));
      assert.equal(e.code, "ServiceTimeout", e.message);
      assert.match(e.message, /did not complete within the allotted timeout/);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await quick.close();
    }
  });

  test("a session held by another receiver: SessionCannotBeLocked; free again once that receiver closes", async () => {
    await send(Q.locked, [["L", "one"]]);
    const holder = await client.acceptSession(Q.locked, "L");
    const e = await errorOf(client.acceptSession(Q.locked, "L"));
    assert.equal(e.code, "SessionCannotBeLocked", e.message);
    await holder.close();
    const next = await client.acceptSession(Q.locked, "L");
    assert.equal((await receiveN(next, 1))[0].body, "one");
    await next.close();
  });

  test("getSessionState / setSessionState and session messages: kept across a restart", async () => {
    await send(Q.state, [["waiting", "sent before the restart"]]);
    const r = await client.acceptSession(Q.state, "st");
    assert.equal(await r.getSessionState(), null, "no state yet");
    await r.setSessionState({ step: 2, note: "half way" });
    assert.deepEqual(await r.getSessionState(), { step: 2, note: "half way" });
    const other = await client.acceptSession(Q.state, "other");
    assert.equal(await other.getSessionState(), null, "state is per session");
    await other.close();
    await r.close();

    await client.close();
    await broker.close({ keepData: true });
    broker = await startBroker(queuesYaml(queues), { dataDir });
    client = new ServiceBusClient(broker.connectionString, RETRY);
    const back = await client.acceptSession(Q.state, "st");
    assert.deepEqual(await back.getSessionState(), { step: 2, note: "half way" });
    await back.setSessionState(null as never); // clears it
    assert.equal(await back.getSessionState(), null);
    await back.close();
    const next = await client.acceptNextSession(Q.state);
    assert.equal(next.sessionId, "waiting");
    assert.equal((await receiveN(next, 1))[0].body, "sent before the restart");
    await next.close();
  });

  describe("session locks (inherently about time: 5 s locks, run side by side)", { concurrency: true }, () => {
    test("renewSessionLock moves the session's lock (and its messages' locks) forward", async () => {
      await send(Q.renew, [["r", "held"]]);
      const r = await client.acceptSession(Q.renew, "r", { maxAutoLockRenewalDurationInMs: 0 });
      try {
        const first = r.sessionLockedUntilUtc!.getTime();
        const [m] = await receiveN(r, 1);
        await waitUntil(first - 2500);
        const renewed = await r.renewSessionLock();
        assert.ok(
          renewed.getTime() > first + 1000,
          `${renewed.toISOString()} is later than ${new Date(first).toISOString()}`,
        );
        await waitUntil(first + 500); // past the first lock: still held thanks to the renewal
        await r.completeMessage(m);
      } finally {
        await r.close();
      }
      assert.deepEqual(await peekAll(client, Q.renew), []);
    });

    test("an expired session lock: the receiver gets SessionLockLost, another can accept the session", async () => {
      await send(Q.expiry, [["e", "kept"]]);
      const r = await client.acceptSession(Q.expiry, "e", { maxAutoLockRenewalDurationInMs: 0 });
      const [m] = await receiveN(r, 1);
      await waitUntil(r.sessionLockedUntilUtc!.getTime() + 100);
      const e = await errorOf(r.completeMessage(m));
      assert.equal(e.code, "SessionLockLost", e.message);
      await r.close();
      const again = await client.acceptSession(Q.expiry, "e");
      const [m2] = await receiveN(again, 1);
      assert.equal(m2.body, "kept");
      assert.equal(m2.deliveryCount, 1, "a session lock that expired counts a delivery for its locked messages");
      await again.completeMessage(m2);
      await again.close();
    });
  });

  test("closing a session receiver gives its unsettled messages back without counting a delivery", async () => {
    await send(Q.close, [["c", "unsettled"]]);
    const r = await client.acceptSession(Q.close, "c");
    await receiveN(r, 1);
    await r.close();
    const again = await client.acceptSession(Q.close, "c");
    const [m] = await receiveN(again, 1);
    assert.equal(m.body, "unsettled");
    assert.equal(m.deliveryCount, 0);
    await again.completeMessage(m);
    await again.close();
  });

  test("entities and receivers that disagree about sessions, and messages without a session id", async () => {
    const plainOnSession = client.createReceiver(Q.named);
    const e1 = await errorOf(plainOnSession.receiveMessages(1, { maxWaitTimeInMs: 2000 }));
    assert.match(e1.message, /requires sessions to create a non-sessionful message receiver/);
    await plainOnSession.close();

    // refused with the broker's error; JS reports a refused named session with its own SessionCannotBeLocked
    const e2 = await errorOf(client.acceptSession(Q.plain, "s"));
    assert.equal(e2.code, "SessionCannotBeLocked", e2.message);

    const e3 = await errorOf(client.createSender(Q.named).sendMessages({ body: "no session" }));
    assert.match(e3.message, /The SessionId was not set on a message/);
  });
});
