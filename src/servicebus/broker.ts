// The broker's semantic root: namespaces over one store. The wire layers (AMQP, admin API) call into it.
import { EventEmitter } from "node:events";
import { DEFAULT_NAMESPACE, EMULATOR_ROOT_POLICY, type ProjectConfig } from "../config/model.js";
import { Namespace } from "./entities/namespace.js";
import type { MessageStore } from "./store/types.js";

export class Broker extends EventEmitter {
  readonly namespaces = new Map<string, Namespace>();
  readonly defaultNamespace: string;

  constructor(
    readonly store: MessageStore,
    config: ProjectConfig,
  ) {
    super();
    for (const ns of config.namespaces) {
      const n = new Namespace(ns.name, store, {
        ...ns,
        policies: ns.policies.length ? ns.policies : [EMULATOR_ROOT_POLICY],
      });
      n.on("change", (q) => this.emit("change", n, q));
      this.namespaces.set(ns.name.toLowerCase(), n);
    }
    this.defaultNamespace = (config.defaultNamespace ?? config.namespaces[0]?.name ?? DEFAULT_NAMESPACE).toLowerCase();
    if (!this.namespaces.has(this.defaultNamespace)) {
      const n = new Namespace(this.defaultNamespace, store, { name: this.defaultNamespace, queues: [], policies: [EMULATOR_ROOT_POLICY] });
      n.on("change", (q) => this.emit("change", n, q));
      this.namespaces.set(this.defaultNamespace, n);
    }
  }

  /**
   * The namespace a client means by the host name it connected to (AMQP open hostname):
   * `<ns>`, `<ns>.localhost`, `<ns>.servicebus.windows.net`; localhost and IP addresses → the default one.
   */
  namespaceForHost(hostname: string | undefined): Namespace | undefined {
    const host = (hostname ?? "").toLowerCase().replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    if (!host || host === "localhost" || /^[\d.]+$/.test(host) || host.includes(":")) {
      return this.namespaces.get(this.defaultNamespace);
    }
    const label = host.split(".")[0];
    return this.namespaces.get(host) ?? this.namespaces.get(label);
  }

  namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name.toLowerCase());
  }

  close(): void {
    for (const n of this.namespaces.values()) n.close();
  }
}
