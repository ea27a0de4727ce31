// Service Bus SAS token (reference §2.3, same algorithm as @azure/core-amqp createToken).
import { createHmac } from "node:crypto";

export function sasToken(audience: string, keyName: string, key: string, ttlSeconds = 3600): string {
  const sr = encodeURIComponent(audience);
  const se = Math.floor(Date.now() / 1000) + ttlSeconds;
  const sig = encodeURIComponent(createHmac("sha256", Buffer.from(key, "utf8")).update(`${sr}\n${se}`).digest("base64"));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${se}&skn=${encodeURIComponent(keyName)}`;
}
