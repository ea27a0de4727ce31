# Debian's azure-servicebus (uamqp) against eventjobs over AMQPS with a connection string: one process runs
# every step (Python starts slowly) and prints one line per step, `STEP <json>`, for the test to check.
# Environment: SB_CONNECTION, QUEUE, ONE_DELIVERY_QUEUE (MaxDeliveryCount 1), SESSION_QUEUE, WS_ENDPOINT.
import json
import os
import time
import traceback

from azure.servicebus import NEXT_AVAILABLE_SESSION, ServiceBusClient, ServiceBusMessage

CONN = os.environ["SB_CONNECTION"]
QUEUE = os.environ["QUEUE"]
ONE_DELIVERY_QUEUE = os.environ["ONE_DELIVERY_QUEUE"]
SESSION_QUEUE = os.environ["SESSION_QUEUE"]
WS_ENDPOINT = os.environ["WS_ENDPOINT"]


def step(name, fn):
    started = time.monotonic()
    try:
        out = {"step": name, "ok": True, "result": fn()}
    except Exception as e:  # every step reports; the test decides
        out = {"step": name, "ok": False, "error": type(e).__name__, "message": str(e), "trace": traceback.format_exc()[-800:]}
    out["seconds"] = round(time.monotonic() - started, 2)
    print("STEP " + json.dumps(out, default=str), flush=True)


def bodies(messages):
    return [str(m) for m in messages]


client = ServiceBusClient.from_connection_string(CONN, retry_total=0)
state = {}

with client:
    # --- a plain queue: send, peek, receive, settle every way ---
    def send():
        with client.get_queue_sender(QUEUE) as s:
            s.send_messages(ServiceBusMessage("m0", application_properties={"n": 0}))
            s.send_messages([ServiceBusMessage(f"m{i}") for i in range(1, 4)])
    step("send", send)

    receiver = client.get_queue_receiver(QUEUE)
    with receiver:
        step("peek", lambda: [[str(m), m.sequence_number] for m in receiver.peek_messages(max_message_count=10)])

        def receive():
            got = []
            while len(got) < 4:
                batch = receiver.receive_messages(max_message_count=4 - len(got), max_wait_time=5)
                if not batch:
                    break
                got += batch
            state["received"] = got
            return [[str(m), m.delivery_count, str(m.lock_token) != "", m.locked_until_utc is not None] for m in got]
        step("receive", receive)

        def settle():
            m0, m1, m2, m3 = state["received"]
            receiver.complete_message(m0)
            receiver.abandon_message(m1)
            receiver.dead_letter_message(m2, reason="bad-input", error_description="could not parse")
            receiver.defer_message(m3)
            state["deferred"] = m3.sequence_number
        step("complete, abandon, dead-letter, defer", settle)

        def abandoned_again():
            [m] = receiver.receive_messages(max_message_count=1, max_wait_time=5)
            before = m.locked_until_utc
            after = receiver.renew_message_lock(m)
            receiver.complete_message(m)
            return [str(m), m.delivery_count, after >= before]
        step("abandoned message again, renew lock, complete", abandoned_again)

        def deferred():
            [m] = receiver.receive_deferred_messages([state["deferred"]])
            receiver.complete_message(m)
            return [str(m), m.sequence_number == state["deferred"]]
        step("receive deferred, complete", deferred)
        step("queue empty", lambda: bodies(receiver.peek_messages(max_message_count=10, sequence_number=1)))

    def dead_letters():
        with client.get_queue_receiver(QUEUE, sub_queue="deadletter") as dlq:
            ms = dlq.receive_messages(max_message_count=1, max_wait_time=5)
            for m in ms:
                dlq.complete_message(m)
            return [[str(m), m.dead_letter_reason, m.dead_letter_error_description] for m in ms]
    step("dead-letter queue", dead_letters)

    # uamqp releases a message that reaches its link between two receive calls (here: while a peek runs on
    # the same connection); it must come back uncounted, even with MaxDeliveryCount 1.
    def between_receives():
        with client.get_queue_receiver(ONE_DELIVERY_QUEUE) as r:
            first = r.receive_messages(max_message_count=1, max_wait_time=1)
            with client.get_queue_sender(ONE_DELIVERY_QUEUE) as s:
                s.send_messages(ServiceBusMessage("late"))
            r.peek_messages(max_message_count=1)
            got = r.receive_messages(max_message_count=1, max_wait_time=5)
            for m in got:
                r.complete_message(m)
            return [bodies(first), [[str(m), m.delivery_count] for m in got]]
    step("message between receive calls", between_receives)

    # --- sessions ---
    def send_sessions():
        with client.get_queue_sender(SESSION_QUEUE) as s:
            s.send_messages([ServiceBusMessage(b, session_id=sid) for sid, b in [("A", "a1"), ("B", "b1"), ("A", "a2")]])
    step("send with session_id", send_sessions)

    with client.get_queue_receiver(SESSION_QUEUE, session_id="A") as r:
        def session_receive():
            session = r.session
            ms = r.receive_messages(max_message_count=2, max_wait_time=5)  # returns once both are in
            for m in ms:
                r.complete_message(m)
            return [session.session_id, session.locked_until_utc is not None, [[str(m), m.session_id] for m in ms]]
        step("session receiver A", session_receive)

        def session_state():
            r.session.set_state(b"checkpoint-7")
            return r.session.get_state().decode()
        step("session state", session_state)

        def renew_session():
            before = r.session.locked_until_utc
            after = r.session.renew_lock()
            return after >= before
        step("renew session lock", renew_session)

        step("session peek", lambda: bodies(r.peek_messages(max_message_count=10)))

        def locked_elsewhere():
            with client.get_queue_receiver(SESSION_QUEUE, session_id="A") as other:
                return other.session.session_id
        step("session locked by another receiver", locked_elsewhere)

    def next_available():
        with client.get_queue_receiver(SESSION_QUEUE, session_id=NEXT_AVAILABLE_SESSION) as r:
            [m] = r.receive_messages(max_message_count=1, max_wait_time=5)
            r.defer_message(m)
            [d] = r.receive_deferred_messages([m.sequence_number])
            r.complete_message(d)
            return [r.session.session_id, str(d), r.session.get_state()]
    step("next available session, defer in a session", next_available)

    # --- the only way Debian's uamqp reaches another port: AMQP over WebSockets (custom_endpoint_address) ---
    def websocket():
        ws = ServiceBusClient.from_connection_string(CONN, retry_total=0, custom_endpoint_address=WS_ENDPOINT)
        with ws:
            with ws.get_queue_sender(QUEUE) as s:
                s.send_messages(ServiceBusMessage("over wss"))
            with ws.get_queue_receiver(QUEUE) as r:
                ms = r.receive_messages(max_message_count=1, max_wait_time=5)
                for m in ms:
                    r.complete_message(m)
                return bodies(ms)
    step("websocket on another port", websocket)
