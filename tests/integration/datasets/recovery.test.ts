/**
 * Crash safety on every store adapter: a process killed in the middle of an upload leaves
 * chunks and a spool file behind; the recovery that runs at start deletes them and marks the
 * job failed, and completes a job whose version was committed before the crash.
 */
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../../support/exchange.ts";
import type { Dataset, UploadJob } from "../../../src/datasets/model.ts";
import { COLLECTIONS } from "../../../src/datasets/model.ts";
import { ownerAccount, pieces, smallChunkService } from "./helpers.ts";

const WORKER = fileURLToPath(new URL("./crash-worker.ts", import.meta.url));

describe.each(availableAdapters())("upload crash recovery on %s", (adapter) => {
  let ex: TestExchange;
  let owner: { id: string; token: string };
  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    owner = await ownerAccount(ex, `crash-${adapter}@example.com`);
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("cleans up the chunks, spool file and job of a process killed mid-upload", async () => {
    const ds = await ex.services.datasets.createDataset(owner.id, { name: "killed" });
    const env: Record<string, string> = {
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      SEED_DEMO: "false",
      DATA_DIR: ex.config.dataDir,
      ...(ex.config.mongo ? { MONGODB_URI: ex.config.mongo.uri, MONGODB_DB: ex.config.mongo.db } : {}),
    };
    const child = spawn(process.execPath, ["--no-node-snapshot", WORKER, JSON.stringify({ env, ownerId: owner.id, datasetId: ds._id })], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    const jobId = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        const m = /job (upl_[a-z0-9]+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`worker exited (${code}) before starting:\n${stderr}`)));
    });
    const job = (await ex.services.datasets.getUploadJob(jobId))!;
    // Wait until chunks are in the blob store, then kill the process without warning.
    for (let i = 0; (await ex.services.blobs.list(job.blobPrefix)).length === 0; i++) {
      if (i > 1200) throw new Error(`no chunk written:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await exited;
    // A write the dead process had already sent may still land (a MongoDB-wire server finishes
    // requests it received): wait until the blob list stops changing, as the real sweep's
    // one-minute staleness does.
    let last = "";
    for (let stable = 0; stable < 3; ) {
      await new Promise((r) => setTimeout(r, 300));
      const now = JSON.stringify(await ex.services.blobs.list(job.blobPrefix));
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
    expect(await ex.services.blobs.list(job.blobPrefix)).not.toEqual([]);
    expect((await ex.services.datasets.getUploadJob(jobId))!.state).toBe("running");
    expect(await readdir(join(ex.config.dataDir, "upload-spool"))).toContain(`${jobId}.upload`);

    // A service opening later (as at start), once the dead job's heartbeat is stale.
    const later = await smallChunkService(ex, 2, { staleUploadMs: 0, now: () => new Date(Date.now() + 60_000) });
    expect(await ex.services.blobs.list(job.blobPrefix)).toEqual([]);
    expect(await readdir(join(ex.config.dataDir, "upload-spool"))).not.toContain(`${jobId}.upload`);
    const after = (await later.getUploadJob(jobId))!;
    expect(after).toMatchObject({ state: "failed", phase: "done", version: null, error: { rule: "interrupted" } });
    expect(await later.listVersions(ds._id)).toEqual([]);
    // A second sweep finds nothing more to do.
    expect(await later.recoverInterruptedUploads()).toEqual({ cleaned: 0, completed: 0, spoolFiles: 0 });
  }, 180_000);

  it("leaves a live upload alone and completes one whose version was committed before the crash", async () => {
    const svc = await smallChunkService(ex, 2);
    const ds = await svc.createDataset(owner.id, { name: "committed then crashed" });
    const { version, job } = await svc.uploadVersion(owner.id, ds._id, { source: pieces("a,b\n1,2\n3,4\n5,6\n") });
    // Undo what the crash prevented: the job's final update and the dataset's latestVersion.
    const jobs = await ex.services.store.collection<UploadJob>(COLLECTIONS.uploads.name);
    const datasets = await ex.services.store.collection<Dataset>(COLLECTIONS.datasets.name);
    await jobs.updateOne({ _id: job._id }, { $set: { state: "running", phase: "committing", version: null, updatedAt: new Date().toISOString() } });
    await datasets.updateOne({ _id: ds._id }, { $set: { latestVersion: 0 } });

    // Its heartbeat is fresh: an ordinary sweep must not touch it.
    expect((await svc.recoverInterruptedUploads()).completed).toBe(0);
    expect((await svc.getUploadJob(job._id))!.state).toBe("running");

    const later = await smallChunkService(ex, 2, { now: () => new Date(Date.now() + 10 * 60_000) });
    expect((await later.getUploadJob(job._id))!).toMatchObject({ state: "succeeded", version: 1 });
    expect((await later.getDataset(ds._id))!.latestVersion).toBe(1);
    expect((await ex.services.blobs.list(version.blobPrefix)).length).toBeGreaterThan(0);
  });
});
