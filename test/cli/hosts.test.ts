// `eventjobs hosts add|remove|list` on a temporary hosts file (EVENTJOBS_HOSTS_FILE / --hosts-file): an
// idempotent marked block, the rest of the file left byte for byte; the sudo command when the file cannot be
// written; and the warning `job create` and `apply` print for a cloud name in a job's env that does not reach
// this machine (docs/troubleshooting.md#cloud-names-do-not-reach-the-local-broker).
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BEGIN, cloudNamesInJobs, END, withBlock } from "../../src/cli/hosts-file.js";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { startServer } from "../helpers/server-process.js";
import { cli } from "../helpers/cli.js";
import { tempFiles } from "../helpers/files.js";

const { tempDir } = tempFiles("eventjobs-hosts-");
const ORIGINAL = "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n# a comment the user wrote\n10.0.0.5 build-box\n";

describe("eventjobs hosts", () => {
  let broker: TestBroker;
  const dataDir = tempDir();
  before(async () => {
    broker = await startBroker(
      "namespaces:\n  - name: servicebus-ns-job\n    queues: [{ name: queue-messages }]\n  - name: orders-ns\n",
      { dataDir },
    );
  });
  after(() => broker?.close());

  test("add is idempotent, list shows the block, remove leaves the rest of the file as it was", async () => {
    const file = join(tempDir(), "hosts");
    writeFileSync(file, ORIGINAL);
    const env = { EVENTJOBS_HOSTS_FILE: file };
    const add = await cli(dataDir, ["hosts", "add"], { env });
    assert.equal(add.code, 0, add.stderr);
    const once = readFileSync(file, "utf8");
    assert.equal(
      once,
      ORIGINAL +
        `${BEGIN}\n127.0.0.1 orders-ns.servicebus.windows.net\n127.0.0.1 servicebus-ns-job.servicebus.windows.net\n${END}\n`,
    );
    const again = await cli(dataDir, ["hosts", "add"], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already there/);
    assert.equal(readFileSync(file, "utf8"), once, "a second add changes nothing");

    // the user edits around the block; a named add keeps the names already there
    writeFileSync(file, once + "192.168.1.9 printer\n");
    await cli(dataDir, ["hosts", "add", "--namespace-name", "Extra-NS"], { env });
    const list = await cli(dataDir, ["hosts", "list"], { env });
    assert.deepEqual(
      JSON.parse(list.stdout).map((r: { host: string; addresses: string[] }) => [r.host, r.addresses]),
      [
        ["extra-ns.servicebus.windows.net", ["127.0.0.1"]],
        ["orders-ns.servicebus.windows.net", ["127.0.0.1"]],
        ["servicebus-ns-job.servicebus.windows.net", ["127.0.0.1"]],
      ],
    );
    const table = await cli(dataDir, ["hosts", "list", "-o", "table"], { env });
    assert.match(table.stdout, /^Namespace\s+Host\s+Addresses\n/);

    await cli(dataDir, ["hosts", "remove", "--namespace-name", "orders-ns"], { env });
    assert.doesNotMatch(readFileSync(file, "utf8"), /orders-ns/);
    assert.match(readFileSync(file, "utf8"), /extra-ns/);
    const removed = await cli(dataDir, ["hosts", "remove"], { env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(readFileSync(file, "utf8"), ORIGINAL + "192.168.1.9 printer\n");
    const none = await cli(dataDir, ["hosts", "remove"], { env });
    assert.match(none.stdout, /nothing to remove/);
  });

  test("the block functions: appended after a last line without newline, removed without a trace", () => {
    const text = "127.0.0.1 localhost";
    const added = withBlock(text, ["b.servicebus.windows.net", "a.servicebus.windows.net", "a.servicebus.windows.net"]);
    assert.equal(
      added,
      `127.0.0.1 localhost\n${BEGIN}\n127.0.0.1 a.servicebus.windows.net\n127.0.0.1 b.servicebus.windows.net\n${END}\n`,
    );
    assert.equal(withBlock(added, []), "127.0.0.1 localhost\n");
    assert.equal(withBlock("", []), "");
    assert.deepEqual(
      cloudNamesInJobs([
        {
          name: "j",
          body: {
            properties: {
              template: { containers: [{ env: [{ name: "FQDN", value: "Orders-NS.servicebus.windows.net" }] }] },
            },
          },
        },
      ]),
      [{ job: "j", variable: "FQDN", host: "orders-ns.servicebus.windows.net" }],
    );
  });

  test("without write permission: the exact sudo command, exit 1, the file unchanged", async (t) => {
    if (process.getuid?.() !== 0 || !existsSync("/usr/bin/setpriv")) return t.skip("needs root to drop to nobody");
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = join(dir, "hosts");
    writeFileSync(file, ORIGINAL, { mode: 0o644 });
    const r = await cli(dataDir, ["hosts", "add", "--namespace-name", "servicebus-ns-job", "--hosts-file", file], {
      wrap: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`cannot write ${file} \\(EACCES\\); run:\\n  sudo '.*' 'hosts' 'add' `));
    assert.match(r.stderr, new RegExp(`'--namespace-name' 'servicebus-ns-job' '--hosts-file' '${file}'\\n`));
    assert.equal(readFileSync(file, "utf8"), ORIGINAL);
  });

  test("job create and apply warn about a cloud name in a job's env until `hosts add` maps it here", async () => {
    const file = join(tempDir(), "hosts");
    writeFileSync(file, ORIGINAL);
    const env = { EVENTJOBS_HOSTS_FILE: file };
    const create = (name: string) =>
      cli(
        dataDir,
        [
          "containerapp",
          "job",
          "create",
          "-n",
          name,
          "--trigger-type",
          "Manual",
          "--replica-timeout",
          "60",
          "--image",
          "local/anything:1",
          "--env-vars",
          "SERVICEBUS_FQDN=servicebus-ns-job.servicebus.windows.net",
          "OTHER=localhost",
        ],
        { env },
      );
    const warned = await create("job-cloud-a");
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(
      warned.stderr,
      /warning: job job-cloud-a: env SERVICEBUS_FQDN names servicebus-ns-job\.servicebus\.windows\.net, which does not resolve to this machine.*run `eventjobs hosts add`/,
    );
    assert.doesNotMatch(warned.stderr, /OTHER/);

    const project = join(tempDir(), "eventjobs.yaml");
    writeFileSync(
      project,
      `namespaces:\n  - name: servicebus-ns-job\n    queues: [{ name: queue-messages }]\n  - name: orders-ns\njobs:\n  - name: job-cloud-b\n    properties:\n      configuration: { triggerType: Manual, replicaTimeout: 60 }\n      template:\n        containers:\n          - name: main\n            image: local/anything:1\n            env: [{ name: SB_HOST, value: orders-ns.servicebus.windows.net }]\n`,
    );
    const apply = await cli(dataDir, ["apply", "--config", project], { env });
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.match(apply.stderr, /warning: job job-cloud-b: env SB_HOST names orders-ns\.servicebus\.windows\.net/);

    await cli(dataDir, ["hosts", "add"], { env });
    const quiet = await create("job-cloud-c");
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /warning/);
  });

  test("up warns about a cloud name in the project's jobs, naming the variable and the command", async () => {
    const dir = tempDir();
    const hostsFile = join(dir, "hosts");
    writeFileSync(hostsFile, ORIGINAL);
    const project = join(dir, "eventjobs.yaml");
    writeFileSync(
      project,
      `namespaces:\n  - name: servicebus-ns-job\njobs:\n  - name: job-up\n    properties:\n      configuration: { triggerType: Manual, replicaTimeout: 60 }\n      template:\n        containers:\n          - name: main\n            image: local/anything:1\n            env: [{ name: SERVICEBUS_FQDN, value: servicebus-ns-job.servicebus.windows.net }]\n`,
    );
    const server = await startServer({ args: ["--config", project], env: { EVENTJOBS_HOSTS_FILE: hostsFile } });
    try {
      const deadline = Date.now() + 15_000;
      while (!/warning: job job-up/.test(server.stderr()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(
        server.stderr(),
        /warning: job job-up: env SERVICEBUS_FQDN names servicebus-ns-job\.servicebus\.windows\.net, which does not resolve to this machine.*run `eventjobs hosts add`/,
      );
    } finally {
      await server.dispose();
    }
  });
});
