/**
 * Uploading datasets as a client does, on every store adapter: the streaming HTTP route
 * (PUT /datasets/:id/versions) and the GraphQL multipart mutation, progress polled while an
 * upload runs, every kind of bad file refused with its rule and position and nothing kept,
 * and who may see what.
 */
import { request as httpRequest } from "node:http";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";
import { blobsOf, ownerAccount } from "../integration/datasets/helpers.ts";

const CREATE = /* GraphQL */ `
  mutation ($input: CreateDatasetInput!) {
    createDataset(input: $input) {
      __typename
      ... on MutationCreateDatasetSuccess { data { id name latestVersion } }
      ... on DomainError { code message }
    }
  }`;

const UPLOAD = /* GraphQL */ `
  mutation ($input: UploadDatasetVersionInput!) {
    uploadDatasetVersion(input: $input) {
      __typename
      ... on MutationUploadDatasetVersionSuccess { data { id number rowCount sourceFormat columns { name type nullable } uploadJob { id state rowsDone } } }
      ... on UploadRejected { code rule message line row column uploadJobId }
      ... on InvalidInput { issues { path message } }
      ... on NotFound { what }
    }
  }`;

const DATASET = /* GraphQL */ `
  query ($id: ID!) {
    dataset(id: $id) {
      __typename
      ... on QueryDatasetSuccess {
        data {
          latestVersion
          latest { number rowCount columns { name type stats { count nullCount min max mean distinct } } }
          versions { number }
          uploads { id state phase rowsDone bytesDone error { rule line row column } }
        }
      }
      ... on NotFound { what }
    }
  }`;

const JOB = /* GraphQL */ `
  query ($id: ID!) {
    uploadJob(id: $id) {
      __typename
      ... on QueryUploadJobSuccess { data { state phase format rowsDone bytesDone bytesTotal version { number } error { rule message line row column } } }
      ... on NotFound { what }
    }
  }`;

async function createDataset(ex: TestExchange, token: string, name: string): Promise<string> {
  const r = await ex.gql(CREATE, { input: { name, description: "测试数据" } }, token);
  expect(r.body.data.createDataset.__typename, JSON.stringify(r.body)).toBe("MutationCreateDatasetSuccess");
  return r.body.data.createDataset.data.id as string;
}

function rawId(globalId: string): string {
  return Buffer.from(globalId, "base64").toString("utf8").split(":")[1]!;
}

/** PUT with fetch (Content-Length known). */
async function put(
  ex: TestExchange,
  token: string | null,
  datasetId: string,
  body: Uint8Array | string,
  query = "",
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${ex.url}/datasets/${encodeURIComponent(datasetId)}/versions${query}`, {
    method: "PUT",
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: typeof body === "string" ? body : Buffer.from(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * PUT with node:http and a chunked body written piece by piece; `between` runs after each
 * piece is written. Resolves with the response even if the server answers before the end.
 */
function putStream(
  ex: TestExchange,
  token: string,
  datasetId: string,
  parts: Array<string | Buffer>,
  between: (i: number) => Promise<void> = async () => {},
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const url = new URL(`${ex.url}/datasets/${encodeURIComponent(datasetId)}/versions`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "PUT", headers: { authorization: `Bearer ${token}`, "transfer-encoding": "chunked" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers }));
      res.on("error", reject);
    });
    let answered = false;
    req.on("response", () => (answered = true));
    req.on("error", (e) => (answered ? undefined : reject(e)));
    void (async () => {
      for (let i = 0; i < parts.length && !answered; i++) {
        const ok = req.write(parts[i]!);
        if (!ok) await new Promise((r) => req.once("drain", r));
        await between(i);
      }
      if (!answered) req.end();
    })().catch(reject);
  });
}

/** The GraphQL multipart request spec, as a browser client would send it. */
async function gqlUpload(
  ex: TestExchange,
  token: string,
  input: Record<string, unknown>,
  file: Uint8Array | string,
  filename = "data.csv",
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.set("operations", JSON.stringify({ query: UPLOAD, variables: { input: { ...input, file: null } } }));
  form.set("map", JSON.stringify({ "0": ["variables.input.file"] }));
  form.set("0", new Blob([typeof file === "string" ? Buffer.from(file) : Buffer.from(file)]), filename);
  const res = await fetch(`${ex.url}/graphql`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: await res.json() };
}

async function poll<T>(what: () => Promise<T>, until: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await what();
    if (until(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached");
}

const BAD_FILES: Array<{
  name: string;
  body: string | Buffer;
  input?: Record<string, unknown>;
  query?: string;
  rule: string;
  status: number;
  where?: { line?: number | null; row?: number | null; column?: string | null };
  graphql?: boolean;
}> = [
  { name: "a ragged row", body: "a,b,c\n1,2,3\n4,5\n", rule: "ragged_row", status: 422, where: { line: 3, row: 2 } },
  { name: "a stray closing quote", body: 'a,b\n1,2\n3,"x"y\n', rule: "bad_quoting", status: 422, where: { line: 3 } },
  { name: "an unclosed quote", body: 'a,b\n1,2\n3,"xyz\n4,5\n', rule: "bad_quoting", status: 422 },
  {
    name: "invalid UTF-8 (a GBK-encoded line)",
    body: Buffer.concat([Buffer.from("district,n\n浦东,1\n"), Buffer.from([0xc6, 0xd6, 0xb6, 0xab]), Buffer.from(",2\n")]),
    rule: "invalid_utf8",
    status: 422,
    where: { line: 3 },
  },
  {
    name: "a value that does not fit its declared type",
    body: "fare,district\n12.5,浦东\n13,徐汇\nabc,静安\n",
    input: { columnTypes: [{ name: "fare", type: "FLOAT" }] },
    query: `?types=${encodeURIComponent(JSON.stringify({ fare: "float" }))}`,
    rule: "type_mismatch",
    status: 422,
    where: { line: 4, row: 3, column: "fare" },
  },
  { name: "an empty file", body: "", rule: "empty_file", status: 422 },
  { name: "a header without rows", body: "a,b,c\n", rule: "no_rows", status: 422 },
  { name: "a file over UPLOAD_MAX_BYTES", body: `n\n${"1234567\n".repeat(1000)}`, rule: "too_large", status: 413 },
  { name: "a spreadsheet (unknown format)", body: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0]), rule: "unknown_format", status: 415 },
  { name: "an unknown declared format", body: "a\n1\n", query: "?format=xml", rule: "unknown_format", status: 415, graphql: false },
];

describe.each(availableAdapters())("dataset uploads over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  let owner: { id: string; token: string };
  let other: { id: string; token: string };
  let buyerToken: string;

  beforeAll(async () => {
    ex = await startTestExchange(adapter, { UPLOAD_MAX_BYTES: "4096" });
    owner = await ownerAccount(ex, `uploader-${adapter}@example.com`);
    other = await ownerAccount(ex, `other-${adapter}@example.com`);
    const b = await ex.gql(
      `mutation { signUp(input: {email: "buyer-${adapter}@example.com", password: "Correct-Horse-42"}) { ... on MutationSignUpSuccess { data { token } } } }`,
    );
    buyerToken = b.body.data.signUp.data.token;
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("uploads a CSV with PUT and shows the owner its version, schema and exact statistics", async () => {
    const id = await createDataset(ex, owner.token, "出租车行程");
    const csv =
      "vehicle_id,district,fare,at\n沪A12345,浦东新区,48.5,2024-03-01 08:15:32\n沪B00001,徐汇区,,2024-03-01 09:00:00\n沪A12345,静安区,16,2024-03-02 10:00:00\n";
    const r = await put(ex, owner.token, id, csv, "?format=csv");
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.version).toMatchObject({ number: 1, rowCount: 3, sourceFormat: "csv", sourceBytes: Buffer.byteLength(csv) });
    expect(r.body.datasetId).toBe(id);
    const d = await ex.gql(DATASET, { id }, owner.token);
    const data = d.body.data.dataset.data;
    expect(data.latestVersion).toBe(1);
    expect(data.latest.columns).toEqual([
      { name: "vehicle_id", type: "STRING", stats: { count: 3, nullCount: 0, min: null, max: null, mean: null, distinct: 2 } },
      { name: "district", type: "STRING", stats: { count: 3, nullCount: 0, min: null, max: null, mean: null, distinct: 3 } },
      { name: "fare", type: "FLOAT", stats: { count: 2, nullCount: 1, min: "16", max: "48.5", mean: 32.25, distinct: null } },
      {
        name: "at",
        type: "TIMESTAMP",
        stats: { count: 3, nullCount: 0, min: "2024-03-01T08:15:32.000Z", max: "2024-03-02T10:00:00.000Z", mean: null, distinct: null },
      },
    ]);
    expect(data.uploads[0]).toMatchObject({ id: r.body.uploadJobId, state: "SUCCEEDED", phase: "done", rowsDone: 3 });
  });

  it("uploads through the GraphQL multipart mutation too, making version 2 of the same dataset", async () => {
    const id = await createDataset(ex, owner.token, "air quality");
    await put(ex, owner.token, id, "station,pm25\nA,1.5\n");
    const nd = '{"station":"徐汇上师大","pm25":35}\n{"station":"浦东张江","pm25":12.5}\n';
    const r = await gqlUpload(ex, owner.token, { datasetId: id }, nd, "air.ndjson");
    expect(r.body.data.uploadDatasetVersion.__typename, JSON.stringify(r.body)).toBe("MutationUploadDatasetVersionSuccess");
    expect(r.body.data.uploadDatasetVersion.data).toMatchObject({
      number: 2,
      rowCount: 2,
      sourceFormat: "NDJSON",
      columns: [
        { name: "station", type: "STRING", nullable: false },
        { name: "pm25", type: "FLOAT", nullable: false },
      ],
      uploadJob: { state: "SUCCEEDED", rowsDone: 2 },
    });
    const d = await ex.gql(DATASET, { id }, owner.token);
    expect(d.body.data.dataset.data.versions).toEqual([{ number: 2 }, { number: 1 }]);
  });

  async function expectNothingKept(bad: (typeof BAD_FILES)[number], datasetGlobalId: string, jobId: string | null) {
    const ds = rawId(datasetGlobalId);
    expect(await ex.services.datasets.listVersions(ds)).toEqual([]);
    expect((await ex.services.datasets.getDataset(ds))!.latestVersion).toBe(0);
    expect(await blobsOf(ex, ds)).toEqual([]);
    expect(await readdir(join(ex.config.dataDir, "upload-spool"))).toEqual([]);
    if (jobId) {
      const j = await ex.gql(JOB, { id: jobId }, owner.token);
      expect(j.body.data.uploadJob.data).toMatchObject({ state: "FAILED", phase: "done", version: null, error: { rule: bad.rule } });
    }
  }

  describe.each(BAD_FILES)("refuses $name", (bad) => {
    it("over PUT, naming the rule and position and keeping nothing", async () => {
      const id = await createDataset(ex, owner.token, `bad put ${bad.name}`);
      const r = await put(ex, owner.token, id, bad.body, bad.query ?? "");
      expect(r.status, JSON.stringify(r.body)).toBe(bad.status);
      expect(r.body.error).toMatchObject({ code: "UPLOAD_REJECTED", rule: bad.rule, ...(bad.where ?? {}) });
      expect(r.body.error.message).toMatch(/\S/);
      await expectNothingKept(bad, id, r.body.uploadJobId ?? null);
    });
  });

  // An unknown format name cannot be sent over GraphQL (DatasetFormat is an enum).
  describe.each(BAD_FILES.filter((b) => b.graphql !== false))("refuses $name", (bad) => {
    it("over GraphQL multipart, as an UploadRejected result", async () => {
      const id = await createDataset(ex, owner.token, `bad gql ${bad.name}`);
      const r = await gqlUpload(ex, owner.token, { datasetId: id, ...(bad.input ?? {}) }, bad.body);
      const result = r.body.data.uploadDatasetVersion;
      expect(result, JSON.stringify(r.body)).toMatchObject({
        __typename: "UploadRejected",
        code: "UPLOAD_REJECTED",
        rule: bad.rule,
        ...(bad.where ?? {}),
      });
      await expectNothingKept(bad, id, result.uploadJobId ?? null);
    });
  });

  it("never echoes a value from the file in an error", async () => {
    const id = await createDataset(ex, owner.token, "secret values");
    const r = await put(
      ex,
      owner.token,
      id,
      "patient,age\nP001,41\nSECRET-名字,42\n",
      `?types=${encodeURIComponent(JSON.stringify({ patient: "int" }))}`,
    );
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).not.toMatch(/SECRET|名字|P001/);
  });

  it("refuses a chunked upload that outgrows the limit while it streams, answering 413", async () => {
    const id = await createDataset(ex, owner.token, "streamed too large");
    const parts = ["n\n", ...Array.from({ length: 40 }, () => "1234567\n".repeat(32))];
    const r = await putStream(ex, owner.token, id, parts);
    expect(r.status).toBe(413);
    expect(r.body.error.rule).toBe("too_large");
    await poll(
      () => blobsOf(ex, rawId(id)),
      (keys) => keys.length === 0,
    );
    expect(await ex.services.datasets.listVersions(rawId(id))).toEqual([]);
  });

  it("checks who is calling: 401 without a credential, 403 for a non-owner, 404 for another owner's dataset", async () => {
    const id = await createDataset(ex, owner.token, "private");
    expect((await put(ex, null, id, "a\n1\n")).status).toBe(401);
    expect((await put(ex, "dxk_nonsense", id, "a\n1\n")).status).toBe(401);
    expect((await put(ex, buyerToken, id, "a\n1\n")).status).toBe(403);
    expect((await put(ex, other.token, id, "a\n1\n")).status).toBe(404);
    expect((await put(ex, owner.token, "not-an-id", "a\n1\n")).status).toBe(404);
    const seen = await ex.gql(DATASET, { id }, other.token);
    expect(seen.body.data.dataset).toEqual({ __typename: "NotFound", what: "dataset" });
    const buyer = await ex.gql(DATASET, { id }, buyerToken);
    expect(buyer.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    const upload = await gqlUpload(ex, other.token, { datasetId: id }, "a\n1\n");
    expect(upload.body.data.uploadDatasetVersion).toEqual({ __typename: "NotFound", what: "dataset" });
    const mine = await ex.gql(`{ datasets(first: 50) { edges { node { name } } } }`, {}, other.token);
    expect(mine.body.data.datasets.edges).toEqual([]);
  });

  it("explains bad options field by field", async () => {
    const id = await createDataset(ex, owner.token, "options");
    const r = await put(ex, owner.token, id, "a\n1\n", "?delimiter=%3B%3B");
    expect(r.status).toBe(400);
    expect(r.body.error.issues[0].path).toBe("input.delimiter");
    const t = await put(ex, owner.token, id, "a\n1\n", `?types=${encodeURIComponent(JSON.stringify({ a: "money" }))}`);
    expect(t.status).toBe(400);
    expect(t.body.error.issues[0].path).toMatch(/^input\.columnTypes/);
    const missing = await put(ex, owner.token, id, "a\n1\n", `?types=${encodeURIComponent(JSON.stringify({ b: "int" }))}`);
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ rule: "unknown_declared_column", column: "b" });
    const nofile = await ex.gql(UPLOAD, { input: { datasetId: id } }, owner.token);
    expect(nofile.body.data.uploadDatasetVersion).toMatchObject({ __typename: "InvalidInput", issues: [{ path: "input.file" }] });
    const dup = await ex.gql(CREATE, { input: { name: "options" } }, owner.token);
    expect(dup.body.data.createDataset.code).toBe("DATASET_NAME_TAKEN");
  });
});

describe.each(availableAdapters())("upload progress on %s", (adapter) => {
  let ex: TestExchange;
  let owner: { id: string; token: string };
  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    owner = await ownerAccount(ex, `progress-${adapter}@example.com`);
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("shows a running upload's rows and bytes while the file is still arriving", async () => {
    const id = await createDataset(ex, owner.token, "进度");
    const row = (i: number) => `${i},浦东新区,${(i % 1000) / 10}\n`;
    const burst = (from: number, n: number) => Array.from({ length: n }, (_, k) => row(from + k)).join("");
    const parts = ["id,district,fare\n", burst(0, 150_000), burst(150_000, 50_000)];
    let running: any = null;
    const r = await putStream(ex, owner.token, id, parts, async (i) => {
      if (i !== 1) return;
      // The first burst is in: the job must show progress before the rest is sent.
      const d = await poll(
        () => ex.gql(DATASET, { id }, owner.token),
        (res) => (res.body.data.dataset.data.uploads[0]?.rowsDone ?? 0) > 0,
      );
      running = d.body.data.dataset.data.uploads[0];
    });
    expect(running).toMatchObject({ state: "RUNNING" });
    expect(running.rowsDone).toBeGreaterThan(0);
    expect(running.rowsDone).toBeLessThanOrEqual(150_000);
    expect(running.bytesDone).toBeGreaterThan(0);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.headers["x-upload-job"]).toBe(running.id);
    const done = await ex.gql(JOB, { id: running.id }, owner.token);
    expect(done.body.data.uploadJob.data).toMatchObject({
      state: "SUCCEEDED",
      phase: "done",
      format: "CSV",
      rowsDone: 200_000,
      version: { number: 1 },
    });
  });
});
