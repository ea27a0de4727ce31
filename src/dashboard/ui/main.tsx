// The eventjobs dashboard (docs/dashboard.md): a header, and the page the address after `#` names.
// Bundled by scripts/build-dashboard.ts into dist/dashboard/public and served by src/dashboard/static.ts.
import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ExecutionPage } from "./execution";
import { ExplorerPage } from "./explorer";
import { JobPage } from "./job";
import { useConnected } from "./live";
import { OverviewPage } from "./overview";
import { href, useRoute, type Route } from "./routes";
import "./base.css";
import "./controls.css";

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "overview":
      return <OverviewPage />;
    case "queue":
      return <ExplorerPage kind="queue" ns={route.ns} name={route.queue} />;
    case "topic":
      return <ExplorerPage kind="topic" ns={route.ns} name={route.topic} />;
    case "subscription":
      return <ExplorerPage kind="subscription" ns={route.ns} topic={route.topic} name={route.sub} />;
    case "job":
      return <JobPage name={route.job} />;
    case "execution":
      return <ExecutionPage job={route.job} name={route.execution} />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>#{route.path}</code>. <a href={href.overview()}>Back to the overview</a>.
          </p>
        </>
      );
  }
}

function App() {
  const route = useRoute();
  const connected = useConnected();
  const key = JSON.stringify(route);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) return void (first.current = false);
    // a new page starts at its top, and the keyboard focus moves into it (not left on the link followed)
    scrollTo(0, 0);
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [key]);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.overview()}>
          eventjobs
        </a>
        <nav aria-label="Main">
          <a href={href.overview()} aria-current={route.page === "overview" ? "page" : undefined}>
            Overview
          </a>
        </nav>
        <span class={`live ${connected ? "on" : "off"}`} role="status" title="Live updates from /api/v1/events">
          {connected ? "live" : "reconnecting…"}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Page key={key} route={route} />
      </main>
    </>
  );
}

const root = document.getElementById("app")!;
root.textContent = ""; // the page's own "Loading…" line goes; render adds to what is there
render(<App />, root);
