// `export --format az` for a namespace's topics: `az servicebus topic create`, `topic subscription create` and
// `topic subscription rule create` with az's flags (values that are Service Bus's defaults are left out). A
// subscription with declared rules loses the $Default rule Azure gives it, as the emulator's Config.json means.
import { QUEUE_DEFAULTS, type NamespaceConfig } from "../../model/config.js";
import { durationIf, exportRule, SUBSCRIPTION_DEFAULTS } from "./topics-common.js";

export type Flag = [string, ...string[]];

const CORRELATION_FLAGS: Record<string, string> = {
  correlationId: "--correlation-id",
  messageId: "--message-id",
  to: "--to",
  replyTo: "--reply-to",
  label: "--label",
  sessionId: "--session-id",
  replyToSessionId: "--reply-to-session-id",
  contentType: "--content-type",
};

/** The commands (head and flags) that create `ns`'s topics; `rg` and `quote` as the script writes them. */
export function topicCommands(
  ns: NamespaceConfig,
  rg: string,
  quote: (s: string) => string,
): Array<[head: string, flags: Flag[]]> {
  const out: Array<[string, Flag[]]> = [];
  const push = (flags: Flag[], flag: string, v: string | number | boolean | undefined) => {
    if (v !== undefined) flags.push([flag, quote(String(v))]);
  };
  for (const t of ns.topics ?? []) {
    const p = t.properties;
    const flags: Flag[] = [
      ["--resource-group", rg],
      ["--namespace-name", ns.name],
      ["--name", quote(t.name)],
    ];
    push(
      flags,
      "--default-message-time-to-live",
      durationIf(p.defaultMessageTimeToLiveMs, QUEUE_DEFAULTS.defaultMessageTimeToLiveMs),
    );
    if (p.requiresDuplicateDetection) push(flags, "--enable-duplicate-detection", true);
    push(
      flags,
      "--duplicate-detection-history-time-window",
      durationIf(p.duplicateDetectionHistoryTimeWindowMs, QUEUE_DEFAULTS.duplicateDetectionHistoryTimeWindowMs),
    );
    if (p.maxSizeInMegabytes !== undefined && p.maxSizeInMegabytes !== QUEUE_DEFAULTS.maxSizeInMegabytes)
      push(flags, "--max-size", p.maxSizeInMegabytes);
    if (
      p.maxMessageSizeInKilobytes !== undefined &&
      p.maxMessageSizeInKilobytes !== QUEUE_DEFAULTS.maxMessageSizeInKilobytes
    )
      push(flags, "--max-message-size", p.maxMessageSizeInKilobytes);
    out.push(["az servicebus topic create", flags]);
  }
  // subscriptions after every topic: one may forward to another topic
  for (const t of ns.topics ?? []) {
    for (const s of t.subscriptions) {
      const sp = s.properties;
      const scope: Flag[] = [
        ["--resource-group", rg],
        ["--namespace-name", ns.name],
        ["--topic-name", quote(t.name)],
      ];
      const flags: Flag[] = [...scope, ["--name", quote(s.name)]];
      push(flags, "--lock-duration", durationIf(sp.lockDurationMs, SUBSCRIPTION_DEFAULTS.lockDurationMs));
      if (sp.maxDeliveryCount !== SUBSCRIPTION_DEFAULTS.maxDeliveryCount)
        push(flags, "--max-delivery-count", sp.maxDeliveryCount);
      push(
        flags,
        "--default-message-time-to-live",
        durationIf(sp.defaultMessageTimeToLiveMs, SUBSCRIPTION_DEFAULTS.defaultMessageTimeToLiveMs),
      );
      if (sp.deadLetteringOnMessageExpiration) push(flags, "--enable-dead-lettering-on-message-expiration", true);
      if (sp.deadLetteringOnFilterEvaluationExceptions) push(flags, "--dead-letter-on-filter-exceptions", true);
      if (sp.requiresSession) push(flags, "--enable-session", true);
      push(flags, "--forward-to", sp.forwardTo);
      push(flags, "--forward-dead-lettered-messages-to", sp.forwardDeadLetteredMessagesTo);
      out.push(["az servicebus topic subscription create", flags]);
      const ruleScope: Flag[] = [...scope, ["--subscription-name", quote(s.name)]];
      if (s.rules.length && !s.rules.some((r) => r.name === "$Default"))
        out.push(["az servicebus topic subscription rule delete", [...ruleScope, ["--name", quote("$Default")]]]);
      for (const r of s.rules.map(exportRule)) {
        const rf: Flag[] = [...ruleScope, ["--name", quote(r.name)]];
        if (r.correlation) {
          rf.push(["--filter-type", "CorrelationFilter"]);
          for (const [k, flag] of Object.entries(CORRELATION_FLAGS)) push(rf, flag, r.correlation[k]);
          const props = Object.entries(r.correlation.properties ?? {});
          if (props.length) rf.push(["--correlation-filter-property", ...props.map(([k, v]) => quote(`${k}=${v}`))]);
        } else rf.push(["--filter-sql-expression", quote(r.sql!)]);
        push(rf, "--action-sql-expression", r.action);
        out.push(["az servicebus topic subscription rule create", rf]);
      }
    }
  }
  return out;
}
