/**
 * PUT /datasets/:id/versions — the streaming upload for large files. The body is the file;
 * it is converted while it arrives, so memory stays flat however large the file.
 *
 *   curl -T taxi.csv -H "Authorization: Bearer $KEY" \
 *        "http://127.0.0.1:4000/datasets/$DATASET_ID/versions?format=csv&types=%7B%22fare%22%3A%22float%22%7D"
 *
 * Query: format (csv|ndjson|parquet; sniffed when absent), delimiter (one character, "\t" or
 * "tab" for tabs), types (JSON object column → int|float|boolean|date|timestamp|string),
 * filename (optional, helps sniffing). The id is the Dataset's global id or its raw "ds_…" id.
 * The response header X-Upload-Job names the job as soon as it exists; poll `uploadJob(id)`.
 *
 * 201 {uploadJobId, version{…}}; 401 bad credential; 403 not an owner; 404 no such dataset;
 * 400 InvalidInput; 413 too large; 415 unknown format; 422 any other rejected file — each in the
 * HTTP edge's one body, {error:{code, message, requestId, rule?, line?, row?, column?, issues?}, uploadJobId?}.
 * The caller comes from the edge (src/http/viewer.ts), resolved once.
 */
import type { Context, Middleware } from "koa";
import type { Logger } from "../../logger.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { HttpError } from "../../http/errors.ts";
import type { ErrorCode } from "../../error-codes.ts";
import { requireViewer } from "../../http/viewer.ts";
import type { DatasetsService } from "../service.ts";
import { UploadRejected } from "../errors.ts";
import { datasetIdFrom, globalId } from "../global-ids.ts";
import { requestBody } from "./request-body.ts";

/** After refusing a body mid-way, read at most this much more before closing the connection. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const DRAIN_LIMIT_MS = 5000;

function statusFor(rule: string): number {
  if (rule === "too_large") return 413;
  if (rule === "unknown_format") return 415;
  if (rule === "upload_aborted") return 400;
  return 422;
}

function queryString(v: string | string[] | undefined): string | null {
  return typeof v === "string" ? v : null;
}

export function datasetUploadRoute(options: { datasets: DatasetsService; log: Logger }): Middleware {
  const { datasets, log } = options;
  return async (ctx) => {
    try {
      await upload(ctx, datasets, log);
    } catch (e) {
      // The body was refused before it ended: answer, then close rather than read gigabytes.
      if (!ctx.req.complete) closeAfterResponse(ctx.req, ctx.res);
      throw e;
    }
  };
}

async function upload(ctx: Context, datasets: DatasetsService, log: Logger): Promise<void> {
  const fail = (
    status: number,
    error: { code: ErrorCode; message: string } & Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): never => {
    const { code, message, ...details } = error;
    throw new HttpError(status, code, message, details, extra);
  };
  const principal = requireViewer(ctx, ["OWNER"]);

  const datasetId = datasetIdFrom(String(ctx.params.id ?? ""));
  if (datasetId === null) return fail(404, { code: "NOT_FOUND", message: "dataset not found" });

  let columnTypes: Record<string, string> | null = null;
  const types = queryString(ctx.query.types);
  if (types) {
    try {
      const parsed: unknown = JSON.parse(types);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      columnTypes = parsed as Record<string, string>;
    } catch {
      return fail(400, {
        code: "INVALID_INPUT",
        message: "types: must be a JSON object of column name → type",
        issues: [{ path: "types", message: 'must be a JSON object such as {"fare":"float"}' }],
      });
    }
  }
  const length = ctx.get("content-length");
  const bytesTotal = /^[0-9]+$/.test(length) ? Number(length) : null;

  let jobId: string | null = null;
  try {
    const { job, version } = await datasets.uploadVersion(principal.account._id, datasetId, {
      source: requestBody(ctx.req),
      format: queryString(ctx.query.format),
      delimiter: queryString(ctx.query.delimiter),
      columnTypes,
      filename: queryString(ctx.query.filename),
      bytesTotal,
      onJob: (j) => {
        jobId = j._id;
        ctx.set("x-upload-job", globalId("UploadJob", j._id));
      },
    });
    ctx.status = 201;
    ctx.body = {
      uploadJobId: globalId("UploadJob", job._id),
      datasetId: globalId("Dataset", version.datasetId),
      version: {
        id: globalId("DatasetVersion", version._id),
        number: version.version,
        rowCount: version.rowCount,
        chunkCount: version.chunkCount,
        sourceFormat: version.sourceFormat,
        sourceBytes: version.sourceBytes,
        sourceSha256: version.sourceSha256,
        columns: version.schema.columns,
      },
    };
  } catch (e) {
    const job = jobId ? { uploadJobId: globalId("UploadJob", jobId) } : {};
    if (e instanceof UploadRejected) {
      return fail(statusFor(e.rule), { code: e.code, rule: e.rule, message: e.message, line: e.line, row: e.row, column: e.column }, job);
    }
    if (e instanceof InvalidInput) return fail(400, { code: e.code, message: e.message, issues: e.issues }, job);
    if (e instanceof NotFound) return fail(404, { code: e.code, message: e.message });
    log.error({ err: e, requestId: ctx.state.requestId, datasetId }, "upload failed");
    return fail(500, { code: "INTERNAL_SERVER_ERROR", message: "internal error; nothing was kept" }, job);
  }
}

/**
 * The body was refused before it ended: answer, then read (and drop) a little more of it so
 * the client can see the answer, and close the connection rather than read gigabytes.
 */
function closeAfterResponse(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): void {
  res.setHeader("connection", "close");
  res.once("finish", () => {
    let drained = 0;
    const timer = setTimeout(() => req.socket.destroy(), DRAIN_LIMIT_MS);
    timer.unref();
    req.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) req.socket.destroy();
    });
    req.once("end", () => clearTimeout(timer));
    req.on("error", () => undefined);
    req.resume();
  });
}
