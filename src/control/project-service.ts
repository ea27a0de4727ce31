// plan / apply / destroy of a project against the running platform. Apply is all-or-nothing: every image
// is built (staged) and every resource checked before anything changes, creates and updates are undone if
// one fails, and deletes come last. A second apply of the same file changes nothing.
import { relative } from "node:path";
import {
  ConfigError,
  DEFAULT_NAMESPACE,
  EMULATOR_ROOT_POLICY,
  jobIssues,
  type ConfigIssue,
  type ProjectConfig,
} from "../model/config.js";
import { positionOf } from "../model/positions.js";
import { RefError, resolveRefs, type RefLookup } from "../model/refs.js";
import { userIdentityResourceId } from "../identity/registry.js";
import { normalizeRegistry, parseImageName } from "../jobs/images.js";
import { JobDefinitionError, normalizeJob } from "../jobs/job-definition.js";
import { diff, order, type Change, type Plan } from "./diff.js";
import { ImageStaging, imageResource, installedImages, type StagedImage } from "./images.js";
import { LiveView, put, remove, type PlatformParts, type Undo } from "./kinds.js";
import {
  declaredResources,
  describe,
  imageDecls,
  namespaceFields,
  resourceKey,
  type Resource,
  type RoleAssignmentSpec,
} from "./resources.js";
import { ruleIssues } from "./topic-kinds.js";
import { keepGeneratedKeys, StateFile, type ProjectState } from "./state.js";

export type ProgressEvent =
  { event: "step"; text: string; status: "start" | "done" | "failed"; error?: string } | { event: "plan"; plan: Plan };
export type Progress = (e: ProgressEvent) => void;

export interface ApplyResult {
  plan: Plan;
  /** deletes that failed (the resources stay owned, so the next apply tries again) */
  errors: string[];
}

/** A failure while changing the platform (after the checks passed); nothing was left changed. */
export class ApplyError extends Error {}

interface Prepared {
  plan: Plan;
  desired: Map<string, Resource>;
  staged: Map<string, StagedImage>;
  staging?: ImageStaging;
  state: ProjectState;
}

const VERB = { create: "Creating", update: "Updating", delete: "Deleting" } as const;
const quiet: Progress = () => {};

export class ProjectService {
  private readonly file: StateFile;
  private running: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly p: PlatformParts,
    dataDir?: string,
  ) {
    this.file = new StateFile(dataDir);
  }

  /** The last applied state (what the project owns). */
  state(): ProjectState {
    return this.file.read();
  }

  /** A config read from a file keeps the keys the running namespaces have where the file gives none. */
  keepKeys(config: ProjectConfig): ProjectConfig {
    return keepGeneratedKeys(config, (ns, queue) => {
      const n = this.p.broker.namespace(ns);
      return queue === undefined ? n?.policies : n?.queuePolicies(queue);
    });
  }

  plan(config: ProjectConfig): Promise<Plan> {
    return this.serial(async () => {
      const prep = this.prepare(config, quiet);
      prep.staging?.finish();
      return prep.plan;
    });
  }

  apply(config: ProjectConfig, progress: Progress = quiet, opts: { imagesBuilt?: boolean } = {}): Promise<ApplyResult> {
    return this.serial(async () => {
      const prep = this.prepare(config, progress, opts.imagesBuilt);
      progress({ event: "plan", plan: prep.plan });
      try {
        return await this.execute(prep, config, progress);
      } finally {
        prep.staging?.finish();
      }
    });
  }

  /** Deletes every resource the project owns. */
  destroy(progress: Progress = quiet): Promise<ApplyResult> {
    return this.serial(async () => {
      const state = this.file.read();
      const live = new LiveView(this.p, state.recorded);
      const changes: Change[] = state.owned.flatMap((o) => {
        const now = live.get(o);
        return now ? [{ action: "delete" as const, kind: o.kind, id: now.id, title: describe(now), fields: [] }] : [];
      });
      const plan: Plan = { source: state.source, changes: order(changes), unchanged: 0 };
      progress({ event: "plan", plan });
      const recorded = structuredClone(state.recorded);
      const failed = await this.deletes(plan.changes, live, recorded, progress);
      this.file.write({
        ...state,
        config: undefined,
        appliedAt: new Date().toISOString(),
        owned: failed.map((f) => ({ kind: f.change.kind, id: f.change.id })),
        recorded,
        retained: this.retained(),
      });
      return { plan, errors: failed.map((f) => f.error) };
    });
  }

  /**
   * At shutdown: refuses new plans and applies, and resolves once the one under way has finished (it is never cut
   * short).
   */
  close(): Promise<void> {
    this.closed = true;
    return this.running.then(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(Object.assign(new Error("the server is shutting down"), { status: 503 }));
    const next = this.running.then(fn, fn);
    this.running = next.catch(() => undefined);
    return next;
  }

  private issues(config: ProjectConfig, issues: ConfigIssue[]): ConfigError {
    return configIssues(config, issues);
  }

  /** Checks and stages everything, and computes the plan; throws ConfigError (with positions) listing every problem. */
  private prepare(config: ProjectConfig, progress: Progress, imagesBuilt = false): Prepared {
    const state = this.file.read();
    const issues: ConfigIssue[] = [];
    const declared = declaredResources(config);
    const desired = new Map(declared.map((r) => [resourceKey(r), r] as const));
    const live = new LiveView(this.p, state.recorded);
    const staged = new Map<string, StagedImage>();
    const decls = imageDecls(config);
    const staging = decls.length && !imagesBuilt ? new ImageStaging(this.p.imagesDir) : undefined;
    try {
      for (const decl of decls) {
        const ref = `${decl.registry}/${decl.image}`;
        if (!staging) {
          const { repository, tag } = parseImageName(decl.image);
          const now = live.get({
            kind: "image",
            id: `${normalizeRegistry(decl.registry)}.azurecr.io/${repository}:${tag}`,
          });
          if (now) desired.set(resourceKey(now), { ...now, path: decl.path, spec: decl });
          continue;
        }
        const text = `Building image ${ref} from ${relative(process.cwd(), decl.context) || "."}`;
        progress({ event: "step", text, status: "start" });
        try {
          const img = staging.build(decl);
          staged.set(img.record.ref.toLowerCase(), img);
          const r = imageResource(img.record, decl);
          desired.set(resourceKey(r), r);
          progress({ event: "step", text, status: "done" });
        } catch (e) {
          progress({ event: "step", text, status: "failed", error: (e as Error).message });
          issues.push({
            path: `${decl.path}.context`,
            value: JSON.stringify(decl.context),
            expected: `a build context that acr build accepts (${(e as Error).message})`,
          });
        }
      }
      issues.push(
        ...this.checkAssignees(declared, config),
        ...this.checkJobs(declared, config, state),
        ...ruleIssues(declared),
      );
      if (issues.length) throw this.issues(config, issues);
      const plan = diff([...desired.values()], live.get, state.owned);
      plan.source = config.source;
      // the emulator's namespace is always served: dropping it from the file only matters if it had other keys
      const root = namespaceFields([EMULATOR_ROOT_POLICY], false);
      plan.changes = plan.changes.filter((c) => {
        if (c.action !== "delete" || c.kind !== "namespace" || c.id.toLowerCase() !== DEFAULT_NAMESPACE) return true;
        const now = live.get(c)!.fields;
        return Object.keys(root).some((k) => k !== "default" && JSON.stringify(root[k]) !== JSON.stringify(now[k]));
      });
      this.addReferencingJobs(plan, desired);
      return { plan, desired, staged, staging, state };
    } catch (e) {
      staging?.finish(); // nothing staged survives a failed check
      throw e;
    }
  }

  /**
   * A role assignment's assignee must be an identity (declared, or already known) or a job with a system-assigned
   * identity.
   */
  private checkAssignees(declared: Resource[], config: ProjectConfig): ConfigIssue[] {
    const names = new Set<string>();
    for (const r of declared) {
      if (r.kind === "identity")
        for (const v of [r.id, r.fields.clientId, r.fields.principalId])
          if (typeof v === "string") names.add(v.toLowerCase());
      if (
        r.kind === "job" &&
        /SystemAssigned/i.test(String((r.spec as { identity?: { type?: string } }).identity?.type ?? ""))
      )
        names.add(r.id.toLowerCase());
    }
    const known = (a: string) =>
      names.has(a.toLowerCase()) ||
      this.p.identity.registry.find(a) !== undefined ||
      this.p.identity.registry.hasSystem(a);
    return declared
      .filter((r) => r.kind === "roleAssignment" && !known((r.spec as RoleAssignmentSpec).assignee))
      .map((r) => ({
        path: `${r.path}.assignee`,
        value: JSON.stringify((r.spec as RoleAssignmentSpec).assignee),
        expected: `an identity name, client id or principal id (declared: ${config.extra?.identities ? (config.extra.identities as { name: string }[]).map((i) => i.name).join(", ") : "none"})`,
      }));
  }

  /** Each job resolves its references as they will be after apply and passes the scaler's checks. */
  private checkJobs(declared: Resource[], config: ProjectConfig, state: ProjectState): ConfigIssue[] {
    const out: ConfigIssue[] = [];
    const lookup = this.prospectiveLookup(config, state);
    for (const r of declared.filter((x) => x.kind === "job")) {
      try {
        this.p.jobs.runtime.check(normalizeJob(resolveRefs(r.spec, lookup)));
      } catch (e) {
        if (e instanceof JobDefinitionError) out.push(...jobIssues(r.path!, e.issues));
        else if (e instanceof RefError)
          out.push({
            path: `${r.path}.${e.path}`,
            value: JSON.stringify(`\${${e.ref}}`),
            expected:
              "a reference to something the project or the platform defines: servicebus.<namespace>.connectionString|fqdn|host, identity.<name>.clientId|principalId|resourceId",
          });
        else throw e;
      }
    }
    return out;
  }

  /** References as they will resolve once the project is applied (new namespaces and identities included). */
  private prospectiveLookup(config: ProjectConfig, state: ProjectState): RefLookup {
    const leaving = new Set(state.owned.map((o) => `${o.kind}:${o.id.toLowerCase()}`));
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    return (kind, name, prop) => {
      if (kind === "servicebus") {
        const ns = config.namespaces.find((n) => same(n.name, name));
        if (!ns) return leaving.has(`namespace:${name.toLowerCase()}`) ? undefined : this.p.lookupRef(kind, name, prop);
        const now = this.p.broker.namespace(ns.name) ? this.p.lookupRef(kind, ns.name, prop) : undefined;
        if (now !== undefined) return now;
        return this.p.namespaceRef(
          { name: ns.name, isDefault: same(ns.name, config.defaultNamespace ?? ""), policy: ns.policies[0] },
          prop,
        );
      }
      if (kind === "identity") {
        const decl = (
          (config.extra?.identities ?? []) as Array<{ name: string; clientId?: string; principalId?: string }>
        ).find((i) => same(i.name, name));
        const now = this.p.lookupRef(kind, name, prop);
        if (!decl) return leaving.has(`identity:${name.toLowerCase()}`) ? undefined : now;
        if (prop === "resourceId") return userIdentityResourceId(decl.name);
        if (prop === "clientId" || prop === "principalId")
          return decl[prop] ?? now ?? "00000000-0000-0000-0000-000000000000";
        return undefined;
      }
      return this.p.lookupRef(kind, name, prop);
    };
  }

  /** A job whose file entry is unchanged still changes when a namespace or identity it references does. */
  private addReferencingJobs(plan: Plan, desired: Map<string, Resource>): void {
    const changed = plan.changes.filter(
      (c) => c.action === "update" && (c.kind === "namespace" || c.kind === "identity"),
    );
    if (!changed.length) return;
    for (const r of desired.values()) {
      if (r.kind !== "job" || plan.changes.some((c) => c.kind === "job" && c.id === r.id)) continue;
      const text = JSON.stringify(r.spec).toLowerCase();
      const hit = changed.find((c) =>
        text.includes(`\${${c.kind === "namespace" ? "servicebus" : "identity"}.${c.id.toLowerCase()}.`),
      );
      if (hit)
        plan.changes.push({
          action: "update",
          kind: "job",
          id: r.id,
          title: describe(r),
          fields: [],
          note: `it references ${hit.title}, which changes`,
        });
    }
    plan.unchanged -= plan.changes.filter((c) => c.note).length;
    plan.changes = order(plan.changes);
  }

  private async execute(prep: Prepared, config: ProjectConfig, progress: Progress): Promise<ApplyResult> {
    const state = prep.state;
    const recorded = structuredClone(state.recorded);
    const live = new LiveView(this.p, state.recorded);
    const undos: Undo[] = [];
    for (const c of prep.plan.changes.filter((x) => x.action !== "delete")) {
      const text = `${VERB[c.action]} ${c.title}`;
      progress({ event: "step", text, status: "start" });
      try {
        const key = resourceKey(c);
        if (c.kind === "image") undos.push(prep.staging!.commit(prep.staged.get(c.id.toLowerCase())!));
        else undos.push(await put(this.p, prep.desired.get(key)!, live.get(c), recorded));
        progress({ event: "step", text, status: "done" });
      } catch (e) {
        progress({ event: "step", text, status: "failed", error: (e as Error).message });
        for (const undo of undos.reverse()) {
          try {
            await undo();
          } catch {
            // best effort: the remaining undos still run
          }
        }
        throw new ApplyError(`${text}: ${(e as Error).message}; every change made so far was undone`);
      }
    }
    const failed = await this.deletes(
      prep.plan.changes.filter((x) => x.action === "delete"),
      live,
      recorded,
      progress,
    );
    this.file.write({
      version: 1,
      source: config.source,
      appliedAt: new Date().toISOString(),
      config: structuredClone(config),
      owned: [
        ...[...prep.desired.values()].map((r) => ({ kind: r.kind, id: r.id })),
        ...failed.map((f) => ({ kind: f.change.kind, id: f.change.id })),
      ],
      recorded,
      retained: this.retained(config),
    });
    return { plan: prep.plan, errors: failed.map((f) => f.error) };
  }

  /**
   * The namespaces served that `config` does not declare (kept by a failed delete, or never the project's), with
   * their keys. One made by `namespace create` is not among them: the broker keeps it itself, and it stays deleted
   * once `namespace delete` deleted it.
   */
  private retained(config?: ProjectConfig): ProjectState["retained"] {
    const declared = new Set((config?.namespaces ?? []).map((n) => n.name.toLowerCase()));
    return [...this.p.broker.namespaces.values()]
      .filter((ns) => !declared.has(ns.name.toLowerCase()) && !this.p.broker.namespaceRecord(ns.name)?.made)
      .map((ns) => ({ name: ns.name, policies: ns.policies.map((x) => ({ ...x, rights: [...x.rights] })) }));
  }

  private async deletes(
    changes: Change[],
    live: LiveView,
    recorded: Record<string, Record<string, unknown>>,
    progress: Progress,
  ) {
    const failed: Array<{ change: Change; error: string }> = [];
    for (const c of changes) {
      const text = `${VERB.delete} ${c.title}`;
      progress({ event: "step", text, status: "start" });
      try {
        await remove(this.p, live.get(c) ?? { kind: c.kind, id: c.id, fields: {} }, recorded);
        progress({ event: "step", text, status: "done" });
      } catch (e) {
        progress({ event: "step", text, status: "failed", error: (e as Error).message });
        failed.push({ change: c, error: `${text}: ${(e as Error).message}` });
      }
    }
    return failed;
  }
}

/** Progress as lines: "Creating queue ns/q... done" (written once the step ends, so lines never interleave). */
export function progressLines(log: (line: string) => void): Progress {
  return (e) => {
    if (e.event !== "step" || e.status === "start") return;
    log(`${e.text}... ${e.status === "done" ? "done" : `failed: ${e.error}`}`);
  };
}

/**
 * Builds the declared images that changed. The platform calls it at start before the jobs exist, so no
 * execution starts without its image; it needs only the images directory.
 */
export function buildImages(imagesDir: string, config: ProjectConfig, progress: Progress): void {
  const decls = imageDecls(config);
  if (!decls.length) return;
  const staging = new ImageStaging(imagesDir);
  let installed: ReturnType<typeof installedImages> | undefined;
  try {
    for (const decl of decls) {
      const ref = `${decl.registry}/${decl.image}`;
      let img: StagedImage;
      try {
        img = staging.build(decl);
      } catch (e) {
        throw configIssues(config, [
          {
            path: `${decl.path}.context`,
            value: JSON.stringify(ref),
            expected: `a build context that acr build accepts (${(e as Error).message})`,
          },
        ]);
      }
      installed ??= installedImages(imagesDir);
      if (installed.get(img.record.ref.toLowerCase())?.digest === img.record.digest) continue;
      progress({ event: "step", text: `Building image ${img.record.ref}`, status: "start" });
      staging.commit(img);
      progress({ event: "step", text: `Building image ${img.record.ref}`, status: "done" });
    }
  } finally {
    staging.finish();
  }
}

function configIssues(config: ProjectConfig, issues: ConfigIssue[]): ConfigError {
  return new ConfigError(issues.map((i) => ({ ...positionOf(config, i.path), ...i, file: config.source })));
}
