// What `eventjobs terraform` reads from the running server: the developer principal behind
// `data.azurerm_client_config` (made by `eventjobs login`), the values the server makes (connection strings,
// identity ids, this server's namespace addresses) in outputs and local-exec commands, and the jobs a local-exec
// command made (destroy removes them, as deleting the resource group does in Azure). See docs/terraform.md.
import { OFFLINE_CLIENT, type ClientConfig } from "../terraform/attributes.js";
import { TerraformError, type Module } from "../terraform/load.js";
import { ApiClient, serverInfo } from "./client.js";

/** `data.azurerm_client_config`: the developer principal; a folder without the data source needs none. */
export async function clientConfig(api: ApiClient, mod: Module): Promise<ClientConfig> {
  const data = mod.data.find((d) => d.type === "azurerm_client_config");
  if (!data) return OFFLINE_CLIENT;
  const res = await api.fetch("GET", "/identity/me");
  if (res.status === 404)
    throw new TerraformError(
      `${data.at}: ${data.address}: no developer principal on this server: run \`eventjobs login\` first (in Azure, Terraform's azurerm reads it from \`az login\`)`,
    );
  const me = (await res.json()) as Record<string, string> & { error?: { message?: string } };
  if (!res.ok) throw new TerraformError(`${data.at}: ${data.address}: ${me.error?.message ?? `HTTP ${res.status}`}`);
  return { client_id: me.clientId, object_id: me.objectId, tenant_id: me.tenantId, subscription_id: me.subscriptionId };
}

/** `${servicebus.ns.connectionString|fqdn|host}` and `${identity.name.clientId|principalId}`: the server's values. */
export async function resolveValues(api: ApiClient, value: unknown): Promise<unknown> {
  if (typeof value === "string") {
    let out = value;
    for (const m of value.matchAll(/\$\{(servicebus|identity)\.([^.}]+)\.(\w+)\}/g)) {
      const [whole, kind, name, prop] = m;
      const enc = encodeURIComponent(name);
      let v: unknown;
      if (kind === "identity") v = (await api.request("GET", `/identities/${enc}`))[prop];
      else if (prop === "connectionString")
        v = (await api.request("GET", `/servicebus/namespaces/${enc}/keys`)).primaryConnectionString;
      else {
        // the TLS form names the AMQPS port; a job's fqdn keeps it unless it is 5671 (as the server resolves it)
        const cs = String(
          (await api.request("GET", `/servicebus/namespaces/${enc}/keys?tls=true`)).primaryConnectionString,
        );
        const [, host, port] = /sb:\/\/([^:/;]+)(?::(\d+))?/.exec(cs) ?? [];
        v = prop === "fqdn" && port && port !== "5671" ? `${host}:${port}` : host;
      }
      out = out.replace(whole, String(v));
    }
    // a namespace's `endpoint`: this server's HTTPS port (the admin API) instead of Azure's 443
    const https = serverInfo(api.dataDir).https;
    if (https && /\$\{servicebus\.[^.}]+\.host\}:443\//.test(value))
      out = out.replace(/:443\//, `:${new URL(https).port}/`);
    return out;
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveValues(api, v)));
  if (value && typeof value === "object")
    return Object.fromEntries(
      await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveValues(api, v)])),
    );
  return value;
}

/** The names of the server's jobs (before and after a command: what it made). */
export async function jobNames(api: ApiClient): Promise<Set<string>> {
  const list = (await api.request("GET", "/jobs")) as { value: Array<{ name: string }> };
  return new Set(list.value.map((j) => j.name));
}

/** Deletes what local-exec commands made (`job:<name>`); one already gone is fine. */
export async function removeMade(api: ApiClient, made: string[], say: (line: string) => void): Promise<void> {
  for (const m of made) {
    const name = /^job:(.+)$/.exec(m)?.[1];
    if (!name) continue;
    const res = await api.fetch("DELETE", `/jobs/${encodeURIComponent(name)}`);
    if (res.ok) say(`job ${name} (made by a local-exec command) deleted`);
    else if (res.status !== 404) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      throw new TerraformError(`job ${name}: ${body.error?.message ?? `HTTP ${res.status}`}`);
    }
  }
}
