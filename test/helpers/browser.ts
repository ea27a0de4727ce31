// Debian's chromium driven by playwright-core, for the dashboard's tests: headless, no sandbox (containers),
// no background networking; every response body and server-sent event a page receives is collected, with the
// console's errors, so a test can check what reached the browser.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.EVENTJOBS_CHROMIUM ?? "/usr/bin/chromium";
const CI = process.env.CI === "true";

/** Why the browser tests cannot run here, or undefined. */
export const browserProblem = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (apt-get install --no-install-recommends chromium)`;

/** False (the test skips, saying why) without chromium; with CI=true that fails instead. */
export function browserHere(t: TestContext): boolean {
  if (!browserProblem) return true;
  if (CI) assert.fail(`${browserProblem}: with CI=true the dashboard's browser tests must run (.ci/run installs it)`);
  t.skip(`${browserProblem}; browser tests skipped`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-domain-reliability",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      "--no-pings",
      "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions",
    ],
  });
}

export interface Received {
  url: string;
  status: number;
  contentType: string;
  body: string;
}

/** What every page of a context received: response bodies, event-stream messages, console errors. */
export class Recorder {
  readonly responses: Received[] = [];
  readonly events: Array<{ url: string; event: string; data: string }> = [];
  readonly errors: string[] = [];
  private readonly pending: Promise<void>[] = [];

  constructor(context: BrowserContext) {
    context.on("response", (r) => {
      const contentType = r.headers()["content-type"] ?? "";
      // an event stream never ends: its messages come through the DevTools protocol instead (watch)
      if (contentType.startsWith("text/event-stream")) return;
      this.pending.push(
        r.body().then(
          (b) => void this.responses.push({ url: r.url(), status: r.status(), contentType, body: b.toString("utf8") }),
          () => void this.responses.push({ url: r.url(), status: r.status(), contentType, body: "" }),
        ),
      );
    });
  }

  /** Starts recording a page's console errors, uncaught exceptions and event-stream messages. */
  async watch(page: Page): Promise<void> {
    page.on("console", (m) => m.type() === "error" && this.errors.push(`console: ${m.text()} (${page.url()})`));
    page.on("pageerror", (e) => this.errors.push(`exception: ${e.message} (${page.url()})`));
    const cdp = await page.context().newCDPSession(page);
    const urls = new Map<string, string>();
    cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
    cdp.on("Network.eventSourceMessageReceived", (e) =>
      this.events.push({ url: urls.get(e.requestId) ?? "", event: e.eventName, data: e.data }),
    );
    await cdp.send("Network.enable");
  }

  /** Every body read so far (waits for those still being read). */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** The places where `value` was received: response URLs and event streams. */
  async find(value: string): Promise<string[]> {
    await this.settle();
    return [
      ...this.responses.filter((r) => r.body.includes(value)).map((r) => r.url),
      ...this.events.filter((e) => e.data.includes(value)).map((e) => `${e.url} (event ${e.event})`),
    ];
  }
}
