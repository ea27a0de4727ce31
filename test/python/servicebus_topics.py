# Debian's azure-servicebus (uamqp) against eventjobs: a topic and its subscriptions, over AMQPS with a connection
# string. Like servicebus_flow.py: one process, one line per step (`STEP <json>`), the test checks them.
# The rules of SUB_RED and SUB_SQL are made by the test before this runs (with @azure/service-bus's rule manager);
# azure-servicebus 7.8.2 manages rules only through ServiceBusAdministrationClient (the ATOM API over HTTPS), which
# the last steps use on SUB_ADMIN when ADMIN_CONNECTION is set (the admin API serves topics).
# Environment: SB_CONNECTION, TOPIC, SUB_ALL ($Default rule), SUB_RED (correlation filter color = red),
# SUB_SQL (SQL filter color = 'blue' AND n > 1), SUB_ADMIN, ADMIN_CONNECTION (optional: with the HTTPS port).
import json
import os
import time
import traceback

from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.management import (
    CorrelationRuleFilter,
    ServiceBusAdministrationClient,
    SqlRuleAction,
    SqlRuleFilter,
)

CONN = os.environ["SB_CONNECTION"]
TOPIC = os.environ["TOPIC"]
SUB_ALL = os.environ["SUB_ALL"]
SUB_RED = os.environ["SUB_RED"]
SUB_SQL = os.environ["SUB_SQL"]
SUB_ADMIN = os.environ["SUB_ADMIN"]
ADMIN_CONNECTION = os.environ.get("ADMIN_CONNECTION")


def step(name, fn):
    started = time.monotonic()
    try:
        out = {"step": name, "ok": True, "result": fn()}
    except Exception as e:  # every step reports; the test decides
        out = {"step": name, "ok": False, "error": type(e).__name__, "message": str(e), "trace": traceback.format_exc()[-800:]}
    out["seconds"] = round(time.monotonic() - started, 2)
    print("STEP " + json.dumps(out, default=str), flush=True)


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def props(m):
    """The application properties as the test wrote them (uamqp gives bytes keys and string values)."""
    return {text(k): text(v) for k, v in sorted((m.application_properties or {}).items())}


def bodies(messages):
    return [str(m) for m in messages]


def receive_all(receiver, n, wait=5):
    got = []
    while len(got) < n:
        batch = receiver.receive_messages(max_message_count=n - len(got), max_wait_time=wait)
        if not batch:
            break
        got += batch
    return got


# (body, color, n): t0 alone, the rest in one batch
MESSAGES = [("t0", "red", 1), ("t1", "blue", 2), ("t2", "red", 3), ("t3", "blue", 4), ("t4", "blue", 1)]

client = ServiceBusClient.from_connection_string(CONN, retry_total=0)
state = {}

with client:
    # --- rules through ServiceBusAdministrationClient (the ATOM API over HTTPS), before anything is sent ---
    if ADMIN_CONNECTION:
        admin = ServiceBusAdministrationClient.from_connection_string(ADMIN_CONNECTION)

        def describe(rule):
            f, a = rule.filter, rule.action
            if isinstance(f, CorrelationRuleFilter):
                shown = {"correlation": {text(k): text(v) for k, v in (f.properties or {}).items()}}
            else:
                shown = {"sql": f.sql_expression}
            return [rule.name, shown, a.sql_expression if a else None]

        def admin_create_rules():
            with admin:
                admin.delete_rule(TOPIC, SUB_ADMIN, "$Default")
                admin.create_rule(TOPIC, SUB_ADMIN, "green", filter=CorrelationRuleFilter(properties={"color": "green"}))
                admin.create_rule(
                    TOPIC, SUB_ADMIN, "big", filter=SqlRuleFilter("n > 5"), action=SqlRuleAction("SET tagged = 'yes'")
                )
                admin.create_rule(TOPIC, SUB_ADMIN, "gone", filter=SqlRuleFilter("1=0"))
                admin.delete_rule(TOPIC, SUB_ADMIN, "gone")
                return [describe(r) for r in admin.list_rules(TOPIC, SUB_ADMIN)]
        step("admin rules: create, delete, list", admin_create_rules)

    def send():
        with client.get_topic_sender(TOPIC) as s:
            body, color, n = MESSAGES[0]
            s.send_messages(ServiceBusMessage(body, application_properties={"color": color, "n": n}))
            batch = s.create_message_batch()
            for body, color, n in MESSAGES[1:]:
                batch.add_message(ServiceBusMessage(body, subject="batch", application_properties={"color": color, "n": n}))
            s.send_messages(batch)
            return len(batch)
    step("topic send, single and batch", send)

    def filtered(sub):
        def run():
            with client.get_subscription_receiver(TOPIC, sub) as r:
                got = receive_all(r, 5, wait=3)
                for m in got:
                    r.complete_message(m)
                return [[str(m), props(m), m.subject] for m in got]
        return run
    step("correlation filter subscription", filtered(SUB_RED))
    step("SQL filter subscription", filtered(SUB_SQL))

    receiver = client.get_subscription_receiver(TOPIC, SUB_ALL)
    with receiver:
        step("subscription peek", lambda: [[str(m), m.sequence_number] for m in receiver.peek_messages(max_message_count=10)])

        def receive():
            got = receive_all(receiver, 5)
            state["received"] = got
            return [[str(m), props(m), m.delivery_count, m.locked_until_utc is not None] for m in got]
        step("subscription receive", receive)

        def settle():
            m0, m1, m2, m3, m4 = state["received"]
            receiver.complete_message(m0)
            receiver.abandon_message(m1)
            receiver.dead_letter_message(m2, reason="bad-color", error_description="red is not allowed")
            receiver.defer_message(m3)
            receiver.complete_message(m4)
            state["deferred"] = m3.sequence_number
        step("subscription complete, abandon, dead-letter, defer", settle)

        def abandoned_again():
            [m] = receiver.receive_messages(max_message_count=1, max_wait_time=5)
            before = m.locked_until_utc
            after = receiver.renew_message_lock(m)
            receiver.complete_message(m)
            return [str(m), m.delivery_count, after >= before]
        step("subscription abandoned message again, renew lock, complete", abandoned_again)

        def deferred():
            [m] = receiver.receive_deferred_messages([state["deferred"]])
            receiver.complete_message(m)
            return [str(m), m.sequence_number == state["deferred"], props(m)]
        step("subscription receive deferred, complete", deferred)
        step("subscription empty", lambda: bodies(receiver.peek_messages(max_message_count=10, sequence_number=1)))

    def dead_letters():
        with client.get_subscription_receiver(TOPIC, SUB_ALL, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dlq:
            ms = receive_all(dlq, 1)
            for m in ms:
                dlq.complete_message(m)
            return [[str(m), props(m), m.dead_letter_reason, m.dead_letter_error_description] for m in ms]
    step("subscription dead-letter queue", dead_letters)

    # none of t0-t4 matched SUB_ADMIN's rules; these do (y1 does not)
    if ADMIN_CONNECTION:
        def admin_routed():
            with client.get_topic_sender(TOPIC) as s:
                s.send_messages([ServiceBusMessage(b, application_properties={"color": c, "n": n})
                                 for b, c, n in [("g1", "green", 1), ("y9", "yellow", 9), ("y1", "yellow", 1)]])
            with client.get_subscription_receiver(TOPIC, SUB_ADMIN) as r:
                got = receive_all(r, 3, wait=3)
                for m in got:
                    r.complete_message(m)
                return [[str(m), props(m)] for m in got]
        step("admin rules route messages", admin_routed)
