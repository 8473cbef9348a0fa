/**
 * The audit log through the real HTTP API on every store adapter: account events recorded with
 * pseudonymous actors, the regulator's read-only GraphQL, exports verified offline by the CLI, and
 * tamper tests (change / delete / reorder / insert one stored event → the CLI names that index).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";
import { ACTIONS, auditEvent } from "../../src/audit/actions.ts";
import { leafHash, toHex } from "../../src/audit/hashing.ts";
import { canonicalJson } from "../../src/audit/canonical.ts";
import { formatCheckpointText, loadPrivateKey, signNote } from "../../src/audit/signed-note.ts";
import type { AuditEntryDoc } from "../../src/audit/model.ts";
import type { JsonValue } from "../../src/store/port.ts";

const PASSWORD = "Correct-Horse-42";
const CLI = join(process.cwd(), "scripts", "verify-log.ts");

const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { ... on MutationSignUpSuccess { data { token account { id } } } } }`;
const CREATE_KEY = `mutation { createApiKey(input: { name: "job" }) { ... on MutationCreateApiKeySuccess { data { secret apiKey { id } } } } }`;
const REVOKE_KEY = `mutation ($id: ID!) { revokeApiKey(id: $id) { __typename } }`;
const GRANT = `mutation ($id: ID!) { grantRole(accountId: $id, role: REGULATOR) { __typename } }`;
const EVENTS = `query ($filter: AuditEventFilter, $after: String) {
  auditEvents(filter: $filter, first: 100, after: $after) {
    edges { node { seq actor action eventId entry leafHash dataJson subject { name id } } }
    pageInfo { hasNextPage endCursor }
  } }`;

function runCli(args: string[]): { status: number; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}

describe.each(availableAdapters())("audit log and regulator over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  let dir: string;
  let buyer: { token: string; id: string };
  let regulatorToken: string;
  let adminId: string;
  let adminKey: string;

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    dir = await mkdtemp(join(tmpdir(), "audit-e2e-"));
    const admin = await ex.services.accounts.createAccount("root@example.com", PASSWORD, ["ADMIN"]);
    adminId = admin._id;
    adminKey = (await ex.services.accounts.createApiKey(admin._id, "admin")).secret;
    const b = await ex.gql(SIGN_UP, { input: { email: "Buyer@Example.com", password: PASSWORD, roles: ["BUYER"] } });
    buyer = { token: b.body.data.signUp.data.token, id: b.body.data.signUp.data.account.id };
    const r = await ex.gql(SIGN_UP, { input: { email: "reg@example.com", password: PASSWORD } });
    regulatorToken = r.body.data.signUp.data.token;
    const granted = await ex.gql(GRANT, { id: r.body.data.signUp.data.account.id }, adminKey);
    expect(granted.body.data.grantRole.__typename).toBe("MutationGrantRoleSuccess");
  });
  afterAll(async () => {
    await ex?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function allEvents(token = regulatorToken, filter?: object) {
    const out: any[] = [];
    let after: string | null = null;
    for (;;) {
      const r: { body: any } = await ex.gql(EVENTS, { filter, after }, token);
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      out.push(...r.body.data.auditEvents.edges.map((e: any) => e.node));
      if (!r.body.data.auditEvents.pageInfo.hasNextPage) return out;
      after = r.body.data.auditEvents.pageInfo.endCursor;
    }
  }

  async function exportFile(query = "", token = regulatorToken): Promise<{ status: number; file: string; text: string; headers: Headers }> {
    const res = await fetch(`${ex.url}/audit/export.ndjson${query}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    const file = join(dir, `export-${Math.random().toString(36).slice(2)}.ndjson`);
    await writeFile(file, text);
    return { status: res.status, file, text, headers: res.headers };
  }

  it("records sign-up, role grant and API key events with account ids, never emails", async () => {
    const key = await ex.gql(CREATE_KEY, {}, buyer.token);
    const keyId = key.body.data.createApiKey.data.apiKey.id;
    await ex.gql(REVOKE_KEY, { id: keyId }, buyer.token);
    const rawBuyerId = Buffer.from(buyer.id, "base64").toString().split(":")[1]!;
    const events = await allEvents();
    const mine = events.filter((e) => e.subject.some((s: any) => s.id === rawBuyerId));
    expect(mine.map((e) => e.action)).toEqual([ACTIONS.accountSignedUp, ACTIONS.apiKeyCreated, ACTIONS.apiKeyRevoked]);
    expect(mine.every((e) => e.actor === rawBuyerId)).toBe(true);
    const grant = events.find((e) => e.action === ACTIONS.roleGranted)!;
    expect(grant.actor).toBe(adminId);
    expect(JSON.parse(grant.dataJson)).toEqual({ role: "REGULATOR" });
    expect(events.find((e) => e.action === ACTIONS.accountCreated)!.actor).toBe("system");
    const all = JSON.stringify(events);
    expect(all).not.toMatch(/@example\.com|Correct-Horse|dxk_|dxs_/i);
    for (const e of events) expect(e.leafHash).toBe(toHex(leafHash(e.entry)));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  });

  it("is read-only and for regulators and admins only", async () => {
    const refused = await ex.gql(EVENTS, {}, buyer.token);
    expect(refused.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    expect((await exportFile("", buyer.token)).status).toBe(403);
    expect((await fetch(`${ex.url}/audit/export.csv`)).status).toBe(401);
    const admin = await ex.gql(`{ auditEvents(first: 1) { edges { node { seq } } } }`, {}, adminKey);
    expect(admin.body.data.auditEvents.edges).toHaveLength(1);
    const bad = await ex.gql(EVENTS, { filter: { from: "2030-01-01T00:00:00Z", to: "2020-01-01T00:00:00Z" } }, regulatorToken);
    expect(bad.body.errors[0].message).toMatch(/filter\.to: from must be before to/);
    const mutations = await ex.gql(`{ __schema { mutationType { fields { name } } } }`, {}, regulatorToken);
    expect(mutations.body.data.__schema.mutationType.fields.map((f: any) => f.name).filter((n: string) => /audit/i.test(n))).toEqual([]);
  });

  it("publishes its key and a signed checkpoint; proves inclusion and consistency over GraphQL", async () => {
    const info = await ex.gql(`{ auditLog { origin verifierKey latestCheckpoint { treeSize rootHash note } } }`);
    const { origin, verifierKey, latestCheckpoint } = info.body.data.auditLog;
    expect(origin).toBe("data-exchange.local/audit");
    expect(await (await fetch(`${ex.url}/audit/key`)).text()).toBe(verifierKey + "\n");
    const cpText = await (await fetch(`${ex.url}/audit/checkpoint`)).text();
    expect(cpText.split("\n").slice(0, 3)).toEqual([
      origin,
      String(latestCheckpoint.treeSize),
      Buffer.from(latestCheckpoint.rootHash, "hex").toString("base64"),
    ]);
    expect(cpText).toMatch(new RegExp(`\\n\\n— ${origin.replace(/[/.]/g, "\\$&")} [A-Za-z0-9+/=]+\\n$`));
    const proof = await ex.gql(
      `query ($i: Int!) { auditInclusionProof(index: $i) { __typename ... on QueryAuditInclusionProofSuccess { data { index treeSize leafHash proof checkpoint { treeSize } } } } }`,
      { i: 1 },
      regulatorToken,
    );
    expect(proof.body.data.auditInclusionProof.data.proof.length).toBeGreaterThan(0);
    const beyond = await ex.gql(
      `{ auditConsistencyProof(first: 1, second: 100000) { __typename ... on ProofUnavailable { message } } }`,
      {},
      regulatorToken,
    );
    expect(beyond.body.data.auditConsistencyProof.__typename).toBe("ProofUnavailable");
  });

  it("reports trades, revenue, ε and access decisions from other modules' events", async () => {
    const audit = ex.services.audit;
    const common = { datasetId: "ds_1", ownerId: "acc_owner", buyerId: "acc_buyer" };
    for (const [i, amount] of [
      [1, 500],
      [2, 700],
    ] as const) {
      await audit.record(
        auditEvent(ACTIONS.tradeSettled, {
          actor: "acc_buyer",
          subject: { ...common, tradeId: `tr_${i}` },
          data: { kind: "query", amountMinor: amount, currency: "cny" },
        }),
      );
      await audit.record(
        auditEvent(ACTIONS.queryExecuted, {
          actor: "acc_buyer",
          subject: { ...common, queryId: `q_${i}` },
          data: {
            ir: { aggregates: [{ fn: "count" }] },
            epsilon: 0.25,
            priceMinor: amount,
            currency: "cny",
            rowsScanned: 1000,
            resultDigest: "ab".repeat(32),
          },
        }),
      );
      await audit.record(
        auditEvent(ACTIONS.privacyBudgetDebited, {
          actor: "acc_buyer",
          subject: { datasetId: "ds_1", buyerId: "acc_buyer" },
          data: { epsilonMicro: 100_000, queryId: `q_${i}` },
        }),
      );
    }
    await audit.record(
      auditEvent(ACTIONS.accessDecided, {
        actor: "acc_owner",
        subject: { ...common, requestId: "ar_1" },
        data: { decision: "approved", purpose: "fare research" },
      }),
    );
    const r = await ex.gql(
      `{ auditTradeReport(period: MONTH, groupBy: OWNER) { period groupId currency trades amountMinor }
         auditEpsilonReport { datasetId debits epsilon queries rowsScanned }
         auditAccessDecisions(first: 10) { edges { node { decision purpose datasetId buyerId } } } }`,
      {},
      regulatorToken,
    );
    expect(r.body.errors).toBeUndefined();
    const month = new Date().toISOString().slice(0, 7);
    expect(r.body.data.auditTradeReport).toEqual([{ period: month, groupId: "acc_owner", currency: "cny", trades: 2, amountMinor: 1200 }]);
    expect(r.body.data.auditEpsilonReport).toEqual([{ datasetId: "ds_1", debits: 2, epsilon: 0.2, queries: 2, rowsScanned: 2000 }]);
    expect(r.body.data.auditAccessDecisions.edges.map((e: any) => e.node)).toEqual([
      { decision: "approved", purpose: "fare research", datasetId: "ds_1", buyerId: "acc_buyer" },
    ]);
    const filtered = await ex.gql(`{ auditEpsilonReport(filter: { datasetId: "ds_none" }) { datasetId } }`, {}, regulatorToken);
    expect(filtered.body.data.auditEpsilonReport).toEqual([]);
  });

  it("exports NDJSON and CSV against a checkpoint; the CLI verifies them offline", async () => {
    const ex1 = await exportFile();
    expect(ex1.status).toBe(200);
    const size = Number(ex1.headers.get("x-audit-tree-size"));
    expect(ex1.text.trim().split("\n")).toHaveLength(size + 1);
    const cpFile = join(dir, "cp.txt");
    await writeFile(cpFile, Buffer.from(ex1.headers.get("x-audit-checkpoint")!, "base64").toString());
    const key = await (await fetch(`${ex.url}/audit/key`)).text();
    const ok = runCli([ex1.file, cpFile, key.trim()]);
    expect(ok.out).toMatch(new RegExp(`OK: ${size} entries verified`));
    expect(ok.status).toBe(0);
    // Filtered export: one inclusion proof per line, still verifiable offline.
    const only = await exportFile(`?action=${ACTIONS.tradeSettled}`);
    expect(only.text.trim().split("\n")).toHaveLength(3);
    const filteredRun = runCli([only.file, "-", key.trim()]);
    expect(filteredRun.out).toMatch(/OK: 2 entries verified/);
    // One entry as an offline bundle: checkpoint + entry + inclusion proof.
    const bundle = await exportFile("?seq=2");
    expect(bundle.text.trim().split("\n")).toHaveLength(2);
    expect(JSON.parse(bundle.text.trim().split("\n")[1]!).proof.length).toBeGreaterThan(0);
    expect(runCli([bundle.file, "-", key.trim()]).out).toMatch(/OK: 1 entries verified/);
    const csv = await fetch(`${ex.url}/audit/export.csv?datasetId=ds_1`, { headers: { authorization: `Bearer ${regulatorToken}` } });
    const rows = (await csv.text()).trim().split("\r\n");
    expect(rows[0]).toBe("seq,time,actor,action,subject,data,eventId,leafHash");
    expect(rows).toHaveLength(8); // header + 2 trades, 2 queries, 2 budget debits, 1 access decision
    const bad = await fetch(`${ex.url}/audit/export.csv?from=yesterday`, { headers: { authorization: `Bearer ${regulatorToken}` } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/query\.from/);
    // A newer export is consistent with the older checkpoint.
    await ex.services.audit.record({ actor: "system", action: "test.later", subject: {} });
    const later = await exportFile();
    expect(runCli([later.file, "-", key.trim(), "--trusted", cpFile]).out).toMatch(/consistent with the trusted checkpoint/);
  });

  describe("tampering with one stored event", () => {
    let key: string;
    let trustedCp: string;
    const entries = () => ex.services.store.collection<AuditEntryDoc>("audit_entries");
    const target = 3;
    let dense = 0;

    beforeAll(async () => {
      key = (await (await fetch(`${ex.url}/audit/key`)).text()).trim();
      // Sign a checkpoint after every entry from here, so even a thorough forger is located exactly.
      dense = (await ex.services.audit.checkpoint()).size + 2;
      for (let i = 0; i < 6; i++) {
        await ex.services.audit.record({ actor: "system", action: "test.filler", subject: { n: String(i) } });
        await ex.services.audit.checkpoint();
      }
      trustedCp = join(dir, "trusted.txt");
      await writeFile(trustedCp, (await ex.services.audit.checkpoint()).note);
    });

    async function tamperAndVerify(tamper: () => Promise<() => Promise<void>>): Promise<{ status: number; out: string }> {
      const undo = await tamper();
      try {
        const e = await exportFile();
        return runCli([e.file, trustedCp, key]);
      } finally {
        await undo();
      }
    }

    async function swapEntry(seq: number, edit: (doc: AuditEntryDoc) => Partial<AuditEntryDoc>) {
      const c = await entries();
      const id = String(seq).padStart(15, "0");
      const doc = (await c.get(id))!;
      await c.updateOne({ _id: id }, { $set: edit(doc) as Record<string, JsonValue> });
      return async () => {
        await c.updateOne({ _id: id }, { $set: { entry: doc.entry, leafHash: doc.leafHash } });
      };
    }

    it("passes untouched", async () => {
      const r = await tamperAndVerify(async () => async () => {});
      expect(r.out).toMatch(/^OK/m);
    });

    it("change one byte → fails at that index", async () => {
      const r = await tamperAndVerify(() =>
        swapEntry(target, (d) => ({ entry: d.entry.replace(/"time":"(\d)/, (_m, dgt) => `"time":"${(Number(dgt) + 1) % 10}`) })),
      );
      expect(r.status).toBe(1);
      expect(r.out).toMatch(new RegExp(`first failing index is ${target}\\n`));
    });

    it("change with its recorded leaf hash rewritten too → still located from the signed checkpoints", async () => {
      const r = await tamperAndVerify(() =>
        swapEntry(dense, (d) => {
          const forged = canonicalJson({ ...JSON.parse(d.entry), actor: "acc_forged" } as JsonValue);
          return { entry: forged, leafHash: toHex(leafHash(forged)) };
        }),
      );
      expect(r.status).toBe(1);
      expect(r.out).toMatch(new RegExp(`first failing index is ${dense}\\n`));
    });

    it("delete one → fails at that index", async () => {
      const r = await tamperAndVerify(async () => {
        const c = await entries();
        const id = String(target).padStart(15, "0");
        const doc = (await c.get(id))!;
        await c.delete(id);
        return async () => {
          const { _v, ...rest } = doc as typeof doc & { _v: number };
          void _v;
          await c.insert(rest);
        };
      });
      expect(r.status).toBe(1);
      expect(r.out).toMatch(new RegExp(`first failing index is ${target}\\n`));
    });

    it("reorder two → fails at the first of them", async () => {
      const r = await tamperAndVerify(async () => {
        const c = await entries();
        const a = (await c.get(String(target).padStart(15, "0")))!;
        const b = (await c.get(String(target + 1).padStart(15, "0")))!;
        const undoA = await swapEntry(target, () => ({ entry: b.entry, leafHash: b.leafHash }));
        const undoB = await swapEntry(target + 1, () => ({ entry: a.entry, leafHash: a.leafHash }));
        return async () => {
          await undoA();
          await undoB();
        };
      });
      expect(r.status).toBe(1);
      expect(r.out).toMatch(new RegExp(`first failing index is ${target}\\n`));
    });

    it("insert one (a forged line in the export) → fails at that index", async () => {
      const e = await exportFile();
      const lines = (await readFile(e.file, "utf8")).split("\n");
      const original = JSON.parse(lines[1 + target]!);
      const forgedEntry = { ...original.entry, action: "trade.settled", data: { amountMinor: 1 } };
      const forged = canonicalJson({ entry: forgedEntry, leafHash: toHex(leafHash(canonicalJson(forgedEntry))) } as JsonValue);
      lines.splice(1 + target, 0, forged);
      await writeFile(e.file, lines.join("\n"));
      const r = runCli([e.file, "-", key]);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(new RegExp(`first failing index is ${target}\\n`));
    });

    it("a forked history (two trees of one size under the key) is detected from two checkpoints", async () => {
      const cp = await ex.services.audit.checkpoint();
      const signingKey = loadPrivateKey(await readFile(join(ex.config.dataDir, "audit-signing-key.pem"), "utf8"));
      const forkedText = formatCheckpointText({ origin: ex.services.audit.origin, size: cp.size, root: leafHash("another history"), extensions: [] });
      const forkFile = join(dir, "fork.txt");
      await writeFile(forkFile, signNote(forkedText, ex.services.audit.origin, signingKey));
      const e = await exportFile();
      const r = runCli([e.file, "-", key, "--trusted", forkFile]);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(/FORK: two different trees of size/);
    });
  });
});
