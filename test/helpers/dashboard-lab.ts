// The dashboard browser test's lab (examples/seed/eventjobs.yaml made to run anywhere) and what it measures and
// checks on a page: paint times, unlabelled controls, sideways overflow.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { parse, stringify } from "yaml";
import { ROOT } from "./server-process.js";

const SEED = join(ROOT, "examples/seed");

/**
 * The seed project with the TypeScript processor, one literal secret by reference and one secret by name; plus a
 * topic and a Manual job.
 */
export function labProject(dir: string, secrets: { apiKey: string; dbPassword: string }): string {
  const p = parse(readFileSync(join(SEED, "eventjobs.yaml"), "utf8"));
  for (const img of p.images) img.context = join(SEED, img.context);
  const job = p.jobs.find((j: any) => j.name === "job-python");
  job.properties.template.containers[0].image = "eventjobsdemo.azurecr.io/job-ts:1.0.0";
  job.properties.configuration.secrets.push({ name: "api-key", value: secrets.apiKey });
  job.properties.template.containers[0].env.push(
    { name: "API_KEY", secretRef: "api-key" },
    { name: "DB_PASSWORD", value: secrets.dbPassword },
  );
  // for the explorer's topic pages and the start and stop buttons
  p.namespaces[0].topics = [{ name: "orders", subscriptions: [{ name: "audit" }] }];
  p.jobs.push({
    name: "job-manual",
    properties: {
      configuration: { triggerType: "Manual", replicaTimeout: 300, replicaRetryLimit: 0 },
      template: {
        containers: [
          {
            name: "main",
            image: "eventjobsdemo.azurecr.io/job-ts:1.0.0",
            command: ["node", "-e", "setTimeout(() => {}, 300000)"],
          },
        ],
      },
    },
  });
  const file = join(dir, "eventjobs.yaml");
  writeFileSync(file, stringify(p));
  return file;
}

/** The page's first paint and first contentful paint, ms after navigation started. */
export async function paints(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() =>
    Object.fromEntries(performance.getEntriesByType("paint").map((e) => [e.name, Math.round(e.startTime)])),
  );
}

/** Form controls without a label or an aria-label (screen readers could not name them). */
export function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement>("input, select, textarea")]
      .filter((el) => !el.labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** Whether the page is wider than the window (a narrow window would scroll sideways). */
export function overflows(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}
