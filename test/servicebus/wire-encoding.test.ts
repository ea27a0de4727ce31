// The broker encodes deliveries and transfer frames by hand (src/servicebus/message/delivery-encoding.ts,
// src/servicebus/amqp/delivery.ts) for speed; rhea must not be able to tell. Byte for byte against rhea's own
// encoder over a table of shapes — rerun this first when rhea is upgraded (it is pinned in package.json).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import rhea from "rhea";
import "../../src/servicebus/amqp/delivery.js"; // installs the hand-made transfer frames
import { encodeClientAnnotations } from "../../src/servicebus/message/codec.js";
import { encodeSentHeader } from "../../src/servicebus/message/header.js";
import {
  encodeDelivery,
  encodeDeliveryTyped,
  type DeliveryFields,
} from "../../src/servicebus/message/delivery-encoding.js";

const require = createRequire(import.meta.url);
const frames = require("rhea/lib/frames.js");
// a second, unpatched copy of rhea's frames module: rhea's own transfer composite and writer
const framesPath = require.resolve("rhea/lib/frames.js");
delete require.cache[framesPath];
const rheaFrames = require(framesPath);
require.cache[framesPath] = { ...require.cache[framesPath]!, exports: frames } as NodeJS.Module;
const types = rhea.types as any;

/** a bare message: one data section of `size` bytes */
function bare(size: number): Buffer {
  const head = Buffer.from([0x00, 0x53, 0x75, 0xb0, 0, 0, 0, 0]);
  head.writeUInt32BE(size, 4);
  return Buffer.concat([head, Buffer.alloc(size, 0x61)]);
}
const clientAnnotations = (entries: Array<[string, unknown]>) =>
  encodeClientAnnotations(entries.map(([k, v]) => [types.wrap_symbol(k), types.wrap(v)]));

describe("deliveries: the hand encoder and rhea's typed values give the same bytes", () => {
  const TOKEN = "0d6f0b6e-9a4c-4a3b-8f0e-2b1c3d4e5f60";
  const base: DeliveryFields = {
    seq: 1,
    enqueuedAt: 1_733_000_000_000,
    deliveryCount: 0,
    annotations: Buffer.alloc(0),
    bare: bare(10),
  };
  const rows: Array<[string, Partial<DeliveryFields>]> = [
    ["the smallest delivery", {}],
    ["sequence numbers at the small/long boundary", { seq: 127 }],
    ["a sequence number past 128", { seq: 128 }],
    ["a large sequence number", { seq: 2 ** 40 + 7 }],
    ["delivery counts of every width", { deliveryCount: 255 }],
    ["delivery count 256", { deliveryCount: 256 }],
    ["delivery count 70 000", { deliveryCount: 70_000 }],
    ["a small TTL", { ttlMs: 200 }],
    ["a TTL of one day", { ttlMs: 86_400_000 }],
    ["an unlimited TTL (not sent)", { ttlMs: 0xffffffff + 1 }],
    ["locked until", { lockedUntil: 1_733_000_060_000 }],
    ["a lock token", { lockToken: TOKEN, lockedUntil: 1_733_000_060_000 }],
    ["message state active", { messageState: 0 }],
    ["message state scheduled", { messageState: 2 }],
    ["a message state past 127", { messageState: 300 }],
    [
      "client annotations",
      {
        annotations: clientAnnotations([
          ["x-opt-partition-key", "pk"],
          ["custom", types.wrap_int(5)],
        ]),
      },
    ],
    [
      "client annotations the broker overrides",
      {
        annotations: clientAnnotations([
          ["x-opt-sequence-number", types.wrap_long(9)],
          ["x-opt-enqueued-time", types.wrap_timestamp(1)],
          ["keep", "me"],
        ]),
        lockedUntil: 5,
      },
    ],
    ["a 64 KB body", { bare: bare(65_000), lockToken: TOKEN }],
    [
      "everything at once",
      {
        seq: 300,
        deliveryCount: 3,
        ttlMs: 60_000,
        lockedUntil: 9,
        messageState: 1,
        lockToken: TOKEN,
        annotations: clientAnnotations([["a", "b"]]),
      },
    ],
    [
      "the sender's header: durable false, priority 7, first-acquirer true",
      { annotations: encodeSentHeader({ durable: false, priority: 7, firstAcquirer: true }) },
    ],
    [
      "the sender's header with null fields, then client annotations, a TTL and a lock",
      {
        annotations: Buffer.concat([
          encodeSentHeader({ durable: null, priority: null, firstAcquirer: null }),
          clientAnnotations([["x-opt-partition-key", "pk"]]),
        ]),
        ttlMs: 200,
        lockedUntil: 9,
        lockToken: TOKEN,
      },
    ],
    [
      "the sender's header, then a map8 annotations section with a null value",
      {
        annotations: Buffer.concat([
          encodeSentHeader({ durable: true, priority: 255, firstAcquirer: false }),
          Buffer.from([0x00, 0x53, 0x72, 0xc1, 0x05, 0x02, 0xa3, 0x01, 0x6b, 0x40]),
        ]),
      },
    ],
  ];
  for (const [name, fields] of rows) {
    test(name, () => {
      const f = { ...base, ...fields };
      assert.deepEqual(encodeDelivery(f), encodeDeliveryTyped(f));
    });
  }
});

describe("transfer frames: the hand encoder and rhea's writer give the same bytes", () => {
  const rows: Array<
    [
      string,
      {
        handle: number;
        delivery_id: number;
        delivery_tag: Buffer;
        message_format: number;
        settled: boolean;
        more: boolean;
        channel: number;
        payload: number;
      },
    ]
  > = [
    [
      "the first delivery",
      {
        handle: 0,
        delivery_id: 0,
        delivery_tag: Buffer.from([0]),
        message_format: 0,
        settled: false,
        more: false,
        channel: 0,
        payload: 10,
      },
    ],
    [
      "handles and ids of every width",
      {
        handle: 255,
        delivery_id: 256,
        delivery_tag: Buffer.alloc(16, 7),
        message_format: 0,
        settled: true,
        more: false,
        channel: 3,
        payload: 100,
      },
    ],
    [
      "large ids",
      {
        handle: 70_000,
        delivery_id: 0xfffffffe,
        delivery_tag: Buffer.alloc(8, 1),
        message_format: 0x80013700,
        settled: false,
        more: true,
        channel: 65_000,
        payload: 1024,
      },
    ],
    [
      "a tag over 255 bytes",
      {
        handle: 1,
        delivery_id: 1,
        delivery_tag: Buffer.alloc(300, 2),
        message_format: 0,
        settled: false,
        more: false,
        channel: 1,
        payload: 0,
      },
    ],
    [
      "a 64 KB payload",
      {
        handle: 2,
        delivery_id: 99,
        delivery_tag: Buffer.alloc(16, 3),
        message_format: 0,
        settled: false,
        more: false,
        channel: 2,
        payload: 65_000,
      },
    ],
  ];
  for (const [name, r] of rows) {
    test(name, () => {
      const { channel, payload: size, ...fields } = r;
      const payload = Buffer.alloc(size, 0x5a);
      const ours = frames.write_frame({
        type: frames.TYPE_AMQP,
        channel,
        performative: frames.transfer(fields),
        payload,
      });
      const theirs = rheaFrames.write_frame({
        type: rheaFrames.TYPE_AMQP,
        channel,
        performative: rheaFrames.transfer(fields),
        payload,
      });
      assert.notEqual(
        frames.transfer(fields).constructor,
        rheaFrames.transfer(fields).constructor,
        "the hand encoder is installed",
      );
      assert.deepEqual(ours, theirs);
    });
  }
});
