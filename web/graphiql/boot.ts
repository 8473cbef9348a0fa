/**
 * Starts GraphiQL from the bundled copy (dist/graphiql/, see vite.config.ts): no CDN. Monaco's
 * workers load from the same origin, so the page's CSP needs no blob: or remote script source.
 */
interface YogaGraphiQLGlobal {
  renderYogaGraphiQL(element: HTMLElement, options: Record<string, unknown>): void;
}

const base = "/graphiql/";
const workers: Record<string, string> = {
  editorWorkerService: `${base}monacoeditorwork/editor.worker.bundle.js`,
  json: `${base}monacoeditorwork/json.worker.bundle.js`,
  graphql: `${base}monacoeditorwork/graphql.worker..bundle.js`,
};
(globalThis as unknown as { MonacoEnvironment: unknown }).MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_module: string, label: string) => workers[label] ?? workers.editorWorkerService,
};

const css = document.createElement("link");
css.rel = "stylesheet";
css.href = `${base}graphiql.css`;
document.head.append(css);

const script = document.createElement("script");
script.src = `${base}yoga-graphiql.umd.js`;
script.onload = () => {
  const root = document.getElementById("graphiql");
  if (!root) return;
  root.textContent = "";
  const yoga = (globalThis as unknown as { YogaGraphiQL: YogaGraphiQLGlobal }).YogaGraphiQL;
  yoga.renderYogaGraphiQL(root, {
    endpoint: "/graphql",
    title: "Data exchange — GraphQL",
    defaultQuery: "# Send `Authorization: Bearer <key>` in Headers below.\n{ viewer { email roles } }\n",
  });
};
document.body.append(script);
