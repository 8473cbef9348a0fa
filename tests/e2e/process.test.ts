/**
 * The service as a newcomer runs it: `node src/main.ts` as a child process. Checks the config
 * guard, the demo seed and its printed keys, readiness, and graceful shutdown with a request
 * still in flight.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--no-node-snapshot", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const m = /listening on (http:\/\/\S+)\/graphql/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  listening.catch(() => undefined); // a test that expects an exit does not await it
  return { child, exited, listening, out: () => stdout, err: () => stderr };
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "exchange-proc-"));
  dirs.push(d);
  return d;
}

describe("the service process", () => {
  it("refuses a malformed config with a message naming the variable, and starts nothing", async () => {
    const dir = await tempDir();
    const p = startMain({ PORT: "eighty", DATA_DIR: dir });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(p.out()).toBe("");
  });

  it("seeds demo accounts on first start, prints their keys, and answers viewer with one", async () => {
    const dir = await tempDir();
    const p = startMain({ PORT: "0", DATA_DIR: dir });
    const url = await p.listening;
    const ownerKey = /OWNER\s+owner@demo\.exchange\s+API key: (dxk_\S+)/.exec(p.out())?.[1];
    expect(ownerKey).toBeDefined();
    const saved = JSON.parse(await readFile(join(dir, "demo-credentials.json"), "utf8"));
    expect(saved.map((c: { role: string }) => c.role)).toEqual(["OWNER", "BUYER", "REGULATOR", "ADMIN"]);

    const res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ownerKey}` },
      body: JSON.stringify({ query: "{ viewer { email roles } }" }),
    });
    expect((await res.json()).data).toEqual({ viewer: { email: "owner@demo.exchange", roles: ["OWNER"] } });
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${url}/ready`)).json()).toMatchObject({ ready: true, store: "sqlite" });
    const graphiql = await fetch(`${url}/graphql`, { headers: { accept: "text/html" } });
    expect(await graphiql.text()).toMatch(/GraphiQL|graphiql/);

    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);

    // Second start on the same data: nothing re-seeded, the old key still works.
    const again = startMain({ PORT: "0", DATA_DIR: dir });
    const url2 = await again.listening;
    expect(again.out()).not.toMatch(/Seeded demo accounts/);
    const res2 = await fetch(`${url2}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ownerKey}` },
      body: JSON.stringify({ query: "{ viewer { email } }" }),
    });
    expect((await res2.json()).data.viewer.email).toBe("owner@demo.exchange");
    again.child.kill("SIGINT");
    expect(await again.exited).toBe(0);
  });

  it("logs each request as JSON with request id, key prefix, operation and duration, and never a secret", async () => {
    const dir = await tempDir();
    const p = startMain({ PORT: "0", DATA_DIR: dir, SEED_DEMO: "false", LOG_LEVEL: "info" });
    const url = await p.listening;
    const post = (body: object, token?: string) =>
      fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "req-test-0001", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    const password = "Correct-Horse-42";
    const up = await post({
      query: `mutation { signUp(input: {email: "log@example.com", password: "${password}"}) { ... on MutationSignUpSuccess { data { token } } } }`,
    });
    const token = up.data.signUp.data.token as string;
    const created = await post(
      { query: `mutation { createApiKey(input: {name: "k"}) { ... on MutationCreateApiKeySuccess { data { secret apiKey { prefix } } } } }` },
      token,
    );
    const { secret, apiKey } = created.data.createApiKey.data;
    await post({ query: "query Mine { viewer { email } }", operationName: "Mine" }, secret);
    await new Promise((r) => setTimeout(r, 200));
    const lines = p
      .out()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const op = lines.find((l) => l.msg === "graphql operation" && l.operation === "Mine");
    expect(op).toMatchObject({ requestId: "req-test-0001", key: apiKey.prefix, outcome: "ok", type: "query" });
    expect(typeof op.ms).toBe("number");
    expect(lines.filter((l) => l.msg === "request").length).toBeGreaterThanOrEqual(3);
    const everything = p.out() + p.err();
    for (const s of [secret, token, password]) expect(everything).not.toContain(s);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("finishes a request in flight when told to stop, then exits 0 and accepts no more", async () => {
    const dir = await tempDir();
    const p = startMain({ PORT: "0", DATA_DIR: dir, SEED_DEMO: "false" });
    const url = new URL(await p.listening);
    const body = JSON.stringify({ query: "{ viewer { email } }" });
    const half = Math.floor(body.length / 2);
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: "/graphql",
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, half));
      // The request is now in flight: stop the server, then send the rest of the body.
      setTimeout(() => {
        p.child.kill("SIGTERM");
        setTimeout(() => req.end(body.slice(half)), 300);
      }, 200);
    });
    const r = await response;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).data).toEqual({ viewer: null });
    expect(await p.exited).toBe(0);
    await expect(fetch(`${url.origin}/health`)).rejects.toThrow();
  });

  it("says which store it cannot reach and exits non-zero", async () => {
    const dir = await tempDir();
    const p = startMain({ PORT: "0", DATA_DIR: dir, MONGODB_URI: "mongodb://127.0.0.1:1/", SEED_DEMO: "false" });
    expect(await p.exited).toBe(1);
    expect(p.err()).toMatch(/could not start: .*(MongoDB|127\.0\.0\.1:1)/i);
  });
});
