// The ATOM/XML shapes of the Service Bus management API as the SDKs parse them (JS `atomXmlHelper` +
// `queueResourceSerializer`, Go `internal/atom`, Python's autorest models): entries, feeds, errors.
// JS takes an entry's name from the path of its <id>, Go from its <title>; JS requires every
// QueueDescription field it reads with getString/getInteger/getBoolean, and a <CountDetails> whose
// only attribute is one `xmlns:<prefix>` declaration.
import { randomUUID } from "node:crypto";
import type { QueueProperties } from "../../model/config.js";
import { formatDuration } from "../../model/duration.js";
import { authorizationRulesXml } from "./authorization-rules.js";
import { UNLIMITED, type SendEntityExtras } from "./entity-fields.js";
import { escapeXml } from "./xml.js";

export const API_VERSION = "2021-05";
export const ATOM_NS = "http://www.w3.org/2005/Atom";
export const SB_NS = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect";
export const XSI_NS = "http://www.w3.org/2001/XMLSchema-instance";
/** the namespace of CountDetails' children (the service prefixes them d2p1) */
export const SB_COUNTS_NS = "http://schemas.microsoft.com/netservices/2011/06/servicebus";

export const CONTENT_TYPE_ENTRY = "application/atom+xml;type=entry;charset=utf-8";
export const CONTENT_TYPE_FEED = "application/atom+xml;type=feed;charset=utf-8";
export const CONTENT_TYPE_ERROR = "application/xml; charset=utf-8";

/** Properties Service Bus keeps per queue that the broker itself does not act on; echoed back as given. */
export type QueueExtras = SendEntityExtras;

export interface EntityTimes {
  createdAt: number;
  updatedAt: number;
  /** 0 = never accessed (rendered as .NET's DateTime.MinValue, as the service does) */
  accessedAt: number;
}

export interface QueueCounts {
  active: number;
  deadLetter: number;
  scheduled: number;
  total: number;
  sizeInBytes: number;
}

export interface QueueView {
  name: string;
  props: QueueProperties;
  extras: QueueExtras;
  times: EntityTimes;
  counts: QueueCounts;
}

/** Where entries point: `<scheme>://<host>`, the request's own origin. */
export interface Origin {
  base: string;
  /** the Host header, for absolute entity references (ForwardTo) */
  host: string;
  namespace: string;
}

export function iso(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z") : "0001-01-01T00:00:00Z";
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? "" : `<${name}>${escapeXml(String(value))}</${name}>`;
}

function selfLink(origin: Origin, path: string): string {
  return `${origin.base}/${path}?api-version=${API_VERSION}`;
}

export function entry(
  origin: Origin,
  path: string,
  title: string,
  times: { published: number; updated: number },
  content: string,
): string {
  const id = escapeXml(selfLink(origin, path));
  return (
    `<entry xmlns="${ATOM_NS}"><id>${id}</id><title type="text">${escapeXml(title)}</title>` +
    `<published>${isoSeconds(times.published)}</published><updated>${isoSeconds(times.updated)}</updated>` +
    `<author><name>${escapeXml(origin.namespace)}</name></author><link rel="self" href="${id}"/>` +
    `<content type="application/xml">${content}</content></entry>`
  );
}

/** The entry of an entity: published when it was created, updated when it last changed. */
export function entityEntry(origin: Origin, path: string, title: string, times: EntityTimes, content: string): string {
  return entry(origin, path, title, { published: times.createdAt, updated: times.updatedAt }, content);
}

/** An entity's CreatedAt, UpdatedAt and AccessedAt elements. */
export function timesXml(t: EntityTimes): string {
  return el("CreatedAt", iso(t.createdAt)) + el("UpdatedAt", iso(t.updatedAt)) + el("AccessedAt", iso(t.accessedAt));
}

/** An entity's CountDetails element; the transfer queues' counts are 0 unless given. */
export function countDetailsXml(c: {
  active: number;
  deadLetter: number;
  scheduled: number;
  transfer?: number;
  transferDeadLetter?: number;
}): string {
  return (
    `<CountDetails xmlns:d2p1="${SB_COUNTS_NS}">` +
    el("d2p1:ActiveMessageCount", c.active) +
    el("d2p1:DeadLetterMessageCount", c.deadLetter) +
    el("d2p1:ScheduledMessageCount", c.scheduled) +
    el("d2p1:TransferMessageCount", c.transfer ?? 0) +
    el("d2p1:TransferDeadLetterMessageCount", c.transferDeadLetter ?? 0) +
    "</CountDetails>"
  );
}

/** `sb://<host>/<name>`: how the service reports forwarding targets. */
export function entityUri(origin: Origin, name: string | undefined): string | undefined {
  return name === undefined ? undefined : `sb://${origin.host}/${name}`;
}

/** A QueueDescription in the service's element order (the order .NET's DataContract serializer writes). */
export function queueDescription(origin: Origin, q: QueueView): string {
  const { props: p, extras: x, times: t, counts: c } = q;
  return (
    `<QueueDescription xmlns="${SB_NS}" xmlns:i="${XSI_NS}">` +
    el("LockDuration", formatDuration(p.lockDurationMs)) +
    el("MaxSizeInMegabytes", p.maxSizeInMegabytes) +
    el("RequiresDuplicateDetection", p.requiresDuplicateDetection) +
    el("RequiresSession", p.requiresSession) +
    el("DefaultMessageTimeToLive", formatDuration(p.defaultMessageTimeToLiveMs)) +
    el("DeadLetteringOnMessageExpiration", p.deadLetteringOnMessageExpiration) +
    el("DuplicateDetectionHistoryTimeWindow", formatDuration(p.duplicateDetectionHistoryTimeWindowMs)) +
    el("MaxDeliveryCount", p.maxDeliveryCount) +
    el("EnableBatchedOperations", x.enableBatchedOperations ?? true) +
    el("SizeInBytes", c.sizeInBytes) +
    el("MessageCount", c.total) +
    el("IsAnonymousAccessible", false) +
    authorizationRulesXml(x.authorizationRules) +
    el("Status", x.status ?? "Active") +
    el("ForwardTo", entityUri(origin, p.forwardTo)) +
    timesXml(t) +
    el("SupportOrdering", true) +
    countDetailsXml({ active: c.active, deadLetter: c.deadLetter, scheduled: c.scheduled }) +
    el("AutoDeleteOnIdle", x.autoDeleteOnIdle ?? UNLIMITED) +
    el("EnablePartitioning", x.enablePartitioning ?? false) +
    el("UserMetadata", x.userMetadata) +
    el("EntityAvailabilityStatus", "Available") +
    el("EnableExpress", x.enableExpress ?? false) +
    el("ForwardDeadLetteredMessagesTo", entityUri(origin, p.forwardDeadLetteredMessagesTo)) +
    el("MaxMessageSizeInKilobytes", p.maxMessageSizeInKilobytes) +
    "</QueueDescription>"
  );
}

export function queueEntry(origin: Origin, q: QueueView): string {
  return entityEntry(origin, q.name, q.name, q.times, queueDescription(origin, q));
}

/**
 * A feed of entries. `next` is the `$skip` of the following page, when there is one: JS pages on the
 * `rel="next"` link's `$skip`, Go keeps asking with `$skip` += page length until a page is empty.
 */
export function feed(
  origin: Origin,
  path: string,
  title: string,
  entries: string[],
  page: { skip: number; top: number; next?: number },
): string {
  const query = (skip: number) => `$skip=${skip}&$top=${page.top}&api-version=${API_VERSION}`;
  const self = escapeXml(`${origin.base}/${path}?${query(page.skip)}`);
  const next =
    page.next === undefined
      ? ""
      : `<link rel="next" href="${escapeXml(`${origin.base}/${path}?${query(page.next)}`)}"/>`;
  return (
    `<feed xmlns="${ATOM_NS}"><title type="text">${escapeXml(title)}</title><id>${self}</id>` +
    `<updated>${isoSeconds(Date.now())}</updated><link rel="self" href="${self}"/>${next}${entries.join("")}</feed>`
  );
}

export function namespaceInfoEntry(origin: Origin, createdAt: number): string {
  const info =
    `<NamespaceInfo xmlns="${SB_NS}" xmlns:i="${XSI_NS}">` +
    el("CreatedTime", iso(createdAt)) +
    el("MessagingSKU", "Standard") +
    el("ModifiedTime", iso(createdAt)) +
    el("Name", origin.namespace) +
    el("NamespaceType", "Messaging") +
    "</NamespaceInfo>";
  return entry(origin, "$namespaceinfo", origin.namespace, { published: createdAt, updated: createdAt }, info);
}

/**
 * An error as the service sends it: `<Error><Code>401</Code><Detail>…</Detail></Error>`; the detail ends
 * with the service's tracking suffix. JS surfaces Detail as the RestError message, Go prints the body.
 */
export function errorBody(status: number, detail: string, tracker: string): string {
  const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, "");
  const full = `${detail} To know more visit https://aka.ms/sbResourceMgrExceptions. TrackingId:${randomUUID()}_G0, SystemTracker:${tracker}, Timestamp:${stamp}`;
  return `<Error><Code>${status}</Code><Detail>${escapeXml(full)}</Detail></Error>`;
}
