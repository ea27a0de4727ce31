// Entity-level shared access rules (the <AuthorizationRules> of a QueueDescription or TopicDescription):
// stored with the entity and returned as the service returns them. They are kept for round trips; the
// namespace's own policies are what authenticate connections (docs/admin-api.md).
import { randomBytes } from "node:crypto";
import { AdminError, invalid } from "./fields.js";
import { children, child, escapeXml, type XmlElement } from "./xml.js";

export interface EntityAuthRule {
  claimType: string;
  keyName: string;
  rights: string[];
  primaryKey: string;
  secondaryKey: string;
  createdAt: number;
  modifiedAt: number;
}

const RIGHTS = ["Manage", "Send", "Listen"];
const KEY_NAME = /^[A-Za-z0-9][\w.-]{0,255}$/;

function newKey(): string {
  return randomBytes(32).toString("base64");
}

/** Reads `<AuthorizationRules>`; rules that keep their key name keep their creation time. */
export function parseAuthorizationRules(el: XmlElement, previous: EntityAuthRule[] = []): EntityAuthRule[] {
  const now = Date.now();
  const out: EntityAuthRule[] = [];
  for (const r of children(el, "AuthorizationRule")) {
    const keyName = child(r, "KeyName")?.text.trim() ?? "";
    if (!KEY_NAME.test(keyName))
      throw invalid("AuthorizationRule.KeyName", keyName, "a name of 1 to 256 letters, digits, '.', '-' or '_'");
    if (out.some((o) => o.keyName.toLowerCase() === keyName.toLowerCase())) {
      throw new AdminError("ArgumentError", `The authorization rule '${keyName}' is given more than once.`);
    }
    const rights = children(child(r, "Rights"), "AccessRights").map((a) => a.text.trim());
    for (const right of rights) {
      if (!RIGHTS.includes(right)) throw invalid("AuthorizationRule.Rights", right, "Manage, Send or Listen");
    }
    if (!rights.length) throw invalid("AuthorizationRule.Rights", "", "at least one of Manage, Send or Listen");
    if (rights.includes("Manage") && !(rights.includes("Send") && rights.includes("Listen"))) {
      throw new AdminError("ArgumentError", `The authorization rule '${keyName}': Manage requires Send and Listen.`);
    }
    const key = (name: string) => {
      const v = child(r, name)?.text.trim();
      if (v !== undefined && v !== "" && (v.length < 1 || v.length > 256))
        throw invalid(`AuthorizationRule.${name}`, "***", "1 to 256 characters");
      return v || newKey();
    };
    const before = previous.find((p) => p.keyName.toLowerCase() === keyName.toLowerCase());
    out.push({
      claimType: child(r, "ClaimType")?.text.trim() || "SharedAccessKey",
      keyName,
      rights,
      primaryKey: key("PrimaryKey"),
      secondaryKey: key("SecondaryKey"),
      createdAt: before?.createdAt ?? now,
      modifiedAt: now,
    });
  }
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}

/** `<AuthorizationRules>` as the service writes it (empty when the entity has none). */
export function authorizationRulesXml(rules: EntityAuthRule[] | undefined): string {
  const body = (rules ?? [])
    .map(
      (r) =>
        `<AuthorizationRule i:type="SharedAccessAuthorizationRule">` +
        `<ClaimType>${escapeXml(r.claimType)}</ClaimType><ClaimValue>None</ClaimValue>` +
        `<Rights>${r.rights.map((x) => `<AccessRights>${x}</AccessRights>`).join("")}</Rights>` +
        `<CreatedTime>${iso(r.createdAt)}</CreatedTime><ModifiedTime>${iso(r.modifiedAt)}</ModifiedTime>` +
        `<KeyName>${escapeXml(r.keyName)}</KeyName><PrimaryKey>${escapeXml(r.primaryKey)}</PrimaryKey>` +
        `<SecondaryKey>${escapeXml(r.secondaryKey)}</SecondaryKey></AuthorizationRule>`,
    )
    .join("");
  return `<AuthorizationRules>${body}</AuthorizationRules>`;
}
