// az's global arguments through the CLI as a child process: --query (JMESPath) before -o formats the result,
// -o tsv and -o table of a queried result as az prints them, --version, group create|show|list|delete, role
// assignment create by object id (the form the az export writes), and unsupported flags as errors naming them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startBroker, uniqueName, type TestBroker } from "../helpers/broker.js";
import { cli, ROOT } from "../helpers/cli.js";
import { CLI } from "../helpers/cli-entry.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The CLI without --data-dir (the version commands talk to no server). */
function bare(args: string[]): Promise<string> {
  return new Promise((done, fail) =>
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT }, (e, out, err) =>
      e ? fail(new Error(`eventjobs ${args.join(" ")}: ${err}`)) : done(out),
    ),
  );
}

describe("az's --query, -o tsv, --version, group and role assignment by object id", () => {
  let broker: TestBroker;
  const run = (args: string[]) => cli(broker.dataDir, args);
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `eventjobs ${args.join(" ")}\n${r.stderr}`);
    return r.stdout;
  };
  const group = uniqueName("rg");
  const ids = [uniqueName("qid-a"), uniqueName("qid-b")];

  before(async () => {
    broker = await startBroker("");
    for (const name of ids) await ok(["identity", "create", "-g", group, "-n", name]);
  });
  after(() => broker?.close());

  it("the lab's `identity show --query clientId -o tsv` prints the client id alone; id carries -g", async () => {
    const [clientId, id, json, none] = await Promise.all([
      ok(["identity", "show", "-g", group, "-n", ids[0], "--query", "clientId", "-o", "tsv"]),
      ok(["identity", "show", "-g", group, "-n", ids[0], "--query", "id", "-o", "tsv"]),
      ok(["identity", "show", "-n", ids[0], "--query", "{client: clientId, group: resourceGroup}"]),
      ok(["identity", "show", "-n", ids[0], "--query", "nothingHere", "-o", "tsv"]),
    ]);
    const registry = broker.platform.identity.registry.user(ids[0])!;
    assert.equal(clientId, `${registry.clientId}\n`);
    assert.equal(
      id,
      `/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${ids[0]}\n`,
    );
    assert.equal(registry.resourceId, id.trim(), "the token's xms_mirid is the id az prints");
    assert.deepEqual(JSON.parse(json), { client: registry.clientId, group });
    assert.equal(none, "", "a null result prints nothing, as az does");
  });

  it("-o tsv of a list: one row per item; a multiselect keeps its order, whole objects are sorted by key", async () => {
    const [names, pairs, rows, table] = await Promise.all([
      ok(["identity", "list", "--query", `[?resourceGroup=='${group}'].name`, "-o", "tsv"]),
      ok(["identity", "list", "--query", `[?resourceGroup=='${group}'].[name, resourceGroup]`, "-o", "tsv"]),
      ok(["identity", "list", "--query", `[?name=='${ids[1]}'].{z: name, a: location}`, "-o", "tsv"]),
      ok([
        "identity",
        "list",
        "--query",
        `[?resourceGroup=='${group}'].{Name: name, Group: resourceGroup}`,
        "-o",
        "table",
      ]),
    ]);
    assert.equal(names, `${ids[0]}\n${ids[1]}\n`);
    assert.equal(pairs, `${ids[0]}\t${group}\n${ids[1]}\t${group}\n`);
    assert.equal(rows, `${ids[1]}\tlocal\n`);
    assert.match(table, new RegExp(`^Name +Group\\n-+ +-+\\n${ids[0]} +${group}\\n${ids[1]} +${group}\\n$`));
    // a whole object: its scalar values in key order, objects empty, lists as their length
    const whole = await ok(["identity", "show", "-n", ids[1], "--query", "@", "-o", "tsv"]);
    const i = broker.platform.identity.registry.user(ids[1])!;
    const tenant = broker.platform.identity.registry.tenantId;
    assert.equal(
      whole,
      [
        i.clientId,
        i.resourceId,
        "local",
        ids[1],
        i.principalId,
        group,
        "",
        tenant,
        "Microsoft.ManagedIdentity/userAssignedIdentities",
      ].join("\t") + "\n",
    );
  });

  it("a query that does not parse fails before the command runs, naming --query", async () => {
    const name = uniqueName("qid-bad");
    const r = await run(["identity", "create", "-n", name, "--query", "[?name=="]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "eventjobs: argument --query: invalid jmespath_type value: '[?name=='\n");
    assert.equal(broker.platform.identity.registry.user(name), undefined, "nothing was created");
  });

  it("--version prints eventjobs' version and the azure-cli release it follows; version prints az version's JSON", async () => {
    const [text, json, one] = await Promise.all([
      bare(["--version"]),
      bare(["version"]),
      bare(["version", "--query", '"azure-cli"', "-o", "tsv"]),
    ]);
    assert.match(text, /^eventjobs {25}\d+\.\d+\.\d+\n\nazure-cli {25}2\.\d+\.\d+\n$/);
    assert.deepEqual(Object.keys(JSON.parse(json)), ["azure-cli", "eventjobs", "extensions"]);
    assert.match(one, /^2\.\d+\.\d+\n$/);
  });

  it("group create|show|list|delete record resource groups in az's shape", async () => {
    const name = uniqueName("rg-rec");
    const created = JSON.parse(await ok(["group", "create", "--name", name, "--location", "eastus", "--tags", "a=b"]));
    assert.deepEqual(created, {
      id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${name}`,
      location: "eastus",
      managedBy: null,
      name,
      properties: { provisioningState: "Succeeded" },
      tags: { a: "b" },
      type: "Microsoft.Resources/resourceGroups",
    });
    const [again, moved, noLocation, shown, listed] = await Promise.all([
      run(["group", "create", "-n", name, "-l", "eastus"]),
      run(["group", "create", "-n", name, "-l", "westus"]),
      run(["group", "create", "-n", uniqueName("rg-x")]),
      ok(["group", "show", "-n", name, "--query", "properties.provisioningState", "-o", "tsv"]),
      ok(["group", "list", "--query", `[?name=='${name}'].location`, "-o", "tsv"]),
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(moved.code, 1);
    assert.match(
      moved.stderr,
      /Invalid resource group location 'westus'\. The Resource group already exists in location 'eastus'\./,
    );
    assert.equal(noLocation.code, 1);
    assert.match(noLocation.stderr, /the following arguments are required: --location\/-l/);
    assert.equal(shown, "Succeeded\n");
    assert.equal(listed, "eastus\n");
    await ok(["group", "delete", "-n", name, "--yes"]);
    const gone = await run(["group", "show", "-n", name]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `eventjobs: Resource group '${name}' could not be found.\n`);
  });

  it("role assignment create --assignee-object-id --assignee-principal-type ServicePrincipal, as the az export writes it", async () => {
    const queue = uniqueName("role-q");
    await ok(["servicebus", "queue", "create", "--namespace-name", "sbemulatorns", "-n", queue]);
    const principal = (await ok(["identity", "show", "-n", ids[1], "--query", "principalId", "-o", "tsv"])).trim();
    assert.match(principal, GUID);
    const scope = (
      await ok([
        "servicebus",
        "queue",
        "show",
        "--namespace-name",
        "sbemulatorns",
        "-n",
        queue,
        "--query",
        "id",
        "-o",
        "tsv",
      ])
    ).trim();
    const made = JSON.parse(
      await ok([
        "role",
        "assignment",
        "create",
        "--role",
        "Azure Service Bus Data Receiver",
        "--assignee-object-id",
        principal,
        "--assignee-principal-type",
        "ServicePrincipal",
        "--scope",
        scope,
      ]),
    );
    assert.equal(made.principalId, principal);
    assert.equal(made.principalType, "ServicePrincipal");
    assert.equal(made.scope, scope);
    const claims = broker.platform.identity.registry.claimsFor(principal, "sbemulatorns", queue.toLowerCase());
    assert.deepEqual(
      claims.map((c) => c.rights),
      [["Listen"]],
    );

    const [user, both, neither, notGuid] = await Promise.all([
      run([
        "role",
        "assignment",
        "create",
        "--role",
        "Azure Service Bus Data Sender",
        "--assignee-object-id",
        principal,
        "--assignee-principal-type",
        "User",
        "--scope",
        scope,
      ]),
      run([
        "role",
        "assignment",
        "create",
        "--role",
        "Azure Service Bus Data Sender",
        "--assignee",
        ids[1],
        "--assignee-object-id",
        principal,
        "--scope",
        scope,
      ]),
      run(["role", "assignment", "create", "--role", "Azure Service Bus Data Sender", "--scope", scope]),
      run([
        "role",
        "assignment",
        "create",
        "--role",
        "Azure Service Bus Data Sender",
        "--assignee-object-id",
        ids[1],
        "--scope",
        scope,
      ]),
    ]);
    assert.equal(user.code, 1);
    assert.match(user.stderr, /has type 'ServicePrincipal', which is different from specified PrincipalType 'User'/);
    for (const r of [both, neither]) {
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "eventjobs: usage error: --assignee STRING | --assignee-object-id GUID\n");
    }
    assert.equal(notGuid.code, 1);
    assert.match(notGuid.stderr, /--assignee-object-id ".*": expected an object \(principal\) id, a GUID/);
  });

  it("an az flag eventjobs does not support is an error naming it; nothing is made", async () => {
    const job = uniqueName("flagjob");
    const [jobCreate, nsCreate, queueUpdate] = await Promise.all([
      run([
        "containerapp",
        "job",
        "create",
        "-n",
        job,
        "--trigger-type",
        "Manual",
        "--image",
        "busybox",
        "--secret-volume-mount",
        "/mnt/secrets",
      ]),
      run(["servicebus", "namespace", "create", "-g", group, "-n", uniqueName("flagns"), "--zone-redundant"]),
      run(["servicebus", "queue", "update", "--namespace-name", "sbemulatorns", "-n", "x", "--enable-session", "true"]),
    ]);
    for (const [r, flag] of [
      [jobCreate, "--secret-volume-mount"],
      [nsCreate, "--zone-redundant"],
      [queueUpdate, "--enable-session"],
    ] as const) {
      assert.equal(r.code, 1, flag);
      assert.match(r.stderr, new RegExp(`unknown option '${flag}'`));
    }
    assert.equal(broker.platform.jobs.engine.job(job), undefined);
  });
});
