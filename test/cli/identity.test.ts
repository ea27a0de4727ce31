// `eventjobs identity ...` and `eventjobs role assignment ...` spawned as a user runs them: az's output
// shapes, assignments that really grant (or stop granting) Service Bus rights, and both surviving a restart.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { cli } from "../helpers/cli.js";
import { tempFiles } from "../helpers/files.js";

const { tempDir } = tempFiles("eventjobs-identity-cli-");
const NS = "servicebus-ns-job";
const YAML = `namespaces:\n  - name: ${NS}\n    queues:\n      - name: queue-messages\n`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("identity and role assignment CLI", () => {
  let broker: TestBroker;
  const dataDir = tempDir();
  const run = (args: string[]) => cli(dataDir, args);
  const rights = (name: string) => {
    const i = broker.platform.identity.registry.user(name);
    return i
      ? broker.platform.identity.registry.claimsFor(i.principalId, NS, "queue-messages").flatMap((c) => c.rights)
      : [];
  };
  before(async () => {
    broker = await startBroker(YAML, { dataDir });
  });
  after(() => broker?.close());

  it("identity create / show / list / delete print az's shapes", async () => {
    const created = await run([
      "identity",
      "create",
      "--name",
      "identity-aca",
      "--resource-group",
      "rg-lab",
      "--tags",
      "team=billing",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const id = JSON.parse(created.stdout);
    assert.deepEqual(Object.keys(id).sort(), [
      "clientId",
      "id",
      "location",
      "name",
      "principalId",
      "resourceGroup",
      "tags",
      "tenantId",
      "type",
    ]);
    assert.equal(id.type, "Microsoft.ManagedIdentity/userAssignedIdentities");
    assert.match(
      id.id,
      /\/resourcegroups\/rg-lab\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/identity-aca$/,
    );
    assert.equal(id.resourceGroup, "rg-lab", "-g is recorded in the identity's id");
    assert.match(id.clientId, GUID);
    assert.deepEqual(id.tags, { team: "billing" });
    assert.equal(broker.platform.identity.registry.user("identity-aca")?.clientId, id.clientId);

    const [show, table, fixed] = await Promise.all([
      run(["identity", "show", "-n", "identity-aca"]),
      run(["identity", "list", "-o", "table"]),
      run([
        "identity",
        "create",
        "-n",
        "worker-id",
        "--client-id",
        "6f1c2f7e-1111-4c4c-9d9d-000000000001",
        "-o",
        "tsv",
      ]),
    ]);
    assert.equal(JSON.parse(show.stdout).principalId, id.principalId);
    assert.match(table.stdout, /^Name\s+ClientId\s+PrincipalId\s+ResourceGroup\n/);
    assert.match(table.stdout, new RegExp(`\\nidentity-aca\\s+${id.clientId}\\s+${id.principalId}\\s+rg-lab\\n`));
    assert.match(fixed.stdout, /^worker-id\t6f1c2f7e-1111-4c4c-9d9d-000000000001\t[0-9a-f-]{36}\teventjobs\n$/);

    const again = await run(["identity", "create", "-n", "identity-aca"]);
    assert.equal(JSON.parse(again.stdout).clientId, id.clientId, "create again keeps the ids (az: create or update)");
    const [bad, conflict] = await Promise.all([
      run(["identity", "create", "-n", "x"]),
      run(["identity", "create", "-n", "other-id", "--client-id", id.clientId]),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^eventjobs: Resource name 'x' is invalid\./);
    assert.equal(conflict.stderr, `eventjobs: clientId ${id.clientId} belongs to identity-aca\n`);

    assert.equal((await run(["identity", "delete", "-n", "worker-id"])).code, 0);
    const gone = await run(["identity", "show", "-n", "worker-id"]);
    assert.equal(gone.code, 1);
    assert.equal(
      gone.stderr,
      "eventjobs: The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/worker-id' under resource group 'eventjobs' was not found.\n",
    );
  });

  it("role assignment create grants the role (by name, client id, ARM scope); list filters; delete revokes", async () => {
    assert.deepEqual(rights("identity-aca"), []);
    const clientId = broker.platform.identity.registry.user("identity-aca")!.clientId;
    const [recv, send] = await Promise.all([
      run([
        "role",
        "assignment",
        "create",
        "--assignee",
        "identity-aca",
        "--role",
        "Azure Service Bus Data Receiver",
        "--scope",
        `${NS}/queues/queue-messages`,
      ]),
      run([
        "role",
        "assignment",
        "create",
        "--assignee",
        clientId,
        "--role",
        "azure service bus data sender",
        "--scope",
        `/subscriptions/abc/resourceGroups/rg-lab/providers/Microsoft.ServiceBus/namespaces/${NS}/queues/queue-messages`,
      ]),
    ]);
    assert.equal(recv.code, 0, recv.stderr);
    assert.equal(send.code, 0, send.stderr);
    const a = JSON.parse(recv.stdout);
    assert.equal(a.type, "Microsoft.Authorization/roleAssignments");
    assert.equal(a.roleDefinitionName, "Azure Service Bus Data Receiver");
    assert.match(
      a.roleDefinitionId,
      /\/providers\/Microsoft\.Authorization\/roleDefinitions\/4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0$/,
    );
    assert.equal(a.principalId, broker.platform.identity.registry.user("identity-aca")!.principalId);
    assert.equal(a.principalType, "ServicePrincipal");
    assert.match(a.scope, new RegExp(`/providers/Microsoft\\.ServiceBus/namespaces/${NS}/queues/queue-messages$`));
    assert.equal(a.id, `${a.scope}/providers/Microsoft.Authorization/roleAssignments/${a.name}`);
    assert.deepEqual(rights("identity-aca").sort(), ["Listen", "Send"]);

    const [dup, role, scope, who] = await Promise.all([
      run([
        "role",
        "assignment",
        "create",
        "--assignee",
        "identity-aca",
        "--role",
        "Azure Service Bus Data Receiver",
        "--scope",
        `${NS}/queues/queue-messages`,
      ]),
      run(["role", "assignment", "create", "--assignee", "identity-aca", "--role", "Contributor", "--scope", NS]),
      run([
        "role",
        "assignment",
        "create",
        "--assignee",
        "identity-aca",
        "--role",
        "Azure Service Bus Data Owner",
        "--scope",
        "elsewhere/queues/q",
      ]),
      run([
        "role",
        "assignment",
        "create",
        "--assignee",
        "nobody",
        "--role",
        "Azure Service Bus Data Owner",
        "--scope",
        NS,
      ]),
    ]);
    assert.equal(dup.stderr, "eventjobs: The role assignment already exists.\n");
    assert.equal(
      role.stderr,
      'eventjobs: Role \'Contributor\' doesn\'t exist. Service Bus data roles: "Azure Service Bus Data Owner", "Azure Service Bus Data Sender", "Azure Service Bus Data Receiver"\n',
    );
    assert.match(
      scope.stderr,
      /^eventjobs: --scope "elsewhere\/queues\/q": no namespace 'elsewhere' on this server \(namespaces: /,
    );
    assert.match(who.stderr, /^eventjobs: Cannot find user or service principal in graph database for 'nobody'\./);

    const [all, mine] = await Promise.all([
      run(["role", "assignment", "list", "-o", "table"]),
      run(["role", "assignment", "list", "--assignee", clientId, "--role", "Azure Service Bus Data Sender"]),
    ]);
    assert.match(all.stdout, /^Principal\s+Role\s+Scope\n/);
    assert.equal(all.stdout.trim().split("\n").length, 4);
    assert.deepEqual(
      JSON.parse(mine.stdout).map((x: any) => x.roleDefinitionName),
      ["Azure Service Bus Data Sender"],
    );

    const del = await run([
      "role",
      "assignment",
      "delete",
      "--assignee",
      "identity-aca",
      "--role",
      "Azure Service Bus Data Sender",
      "--scope",
      `${NS}/queues/queue-messages`,
    ]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(rights("identity-aca"), ["Listen"]);
    const none = await run([
      "role",
      "assignment",
      "delete",
      "--assignee",
      "identity-aca",
      "--role",
      "Azure Service Bus Data Sender",
    ]);
    assert.equal(none.stderr, "eventjobs: No matched assignments were found to delete.\n");
  });

  it("identities and role assignments made here come back after a restart", async () => {
    const before = broker.platform.identity.registry.user("identity-aca")!;
    await broker.close({ keepData: true });
    broker = await startBroker(YAML, { dataDir });
    assert.deepEqual(broker.platform.identity.registry.user("identity-aca"), before);
    assert.equal(broker.platform.identity.registry.user("worker-id"), undefined, "a deleted one stays deleted");
    assert.deepEqual(rights("identity-aca"), ["Listen"]);
    const help = await run(["role", "assignment", "create", "--help"]);
    assert.match(
      help.stdout,
      /Examples:\n {2}eventjobs role assignment create --assignee identity-aca --role "Azure Service Bus Data Receiver"/,
    );
  });
});
