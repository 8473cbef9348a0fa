/**
 * HTTP routes of the audit log, outside GraphQL because they are files and plain text:
 *
 *   GET  /audit/checkpoint[?size=N]      latest (or size-N) signed checkpoint, with witness cosignatures   public
 *   GET  /audit/key                      the log's verifier key (C2SP vkey)                               public
 *   POST /audit/cosignatures             a witness posts the checkpoint with its cosignature line         public, verified
 *   GET  /audit/export.ndjson?…          verifiable export (filters: from, to, action, actorId,           REGULATOR / ADMIN
 *   GET  /audit/export.csv?…             datasetId, ownerId, buyerId, subjectId, seq)                     REGULATOR / ADMIN
 *
 * `export.ndjson?seq=N` is the offline bundle of one entry: the checkpoint, the entry and its proof.
 *
 * Exports use the caller resolved by the HTTP edge (the same bearer credentials as /graphql).
 * Both carry the checkpoint they are consistent with: NDJSON in its header line, both in
 * X-Audit-Tree-Size / X-Audit-Checkpoint (base64 of the signed note). Errors use the edge's one
 * body shape.
 */
import { Readable } from "node:stream";
import type Router from "@koa/router";
import { DomainError, InvalidInput } from "../errors.ts";
import { HttpError, readBody, requireContentType } from "../http/errors.ts";
import { requireViewer } from "../http/viewer.ts";
import type { AuditLog } from "./service.ts";
import { parseEventFilter } from "./search.ts";
import { csvExport, ndjsonExport, prepareExport } from "./export.ts";

const MAX_BODY = 64 * 1024;

export function registerAuditRoutes(router: Router, audit: AuditLog): void {
  router.get("/audit/key", (ctx) => {
    ctx.type = "text/plain; charset=utf-8";
    ctx.body = audit.verifierKey + "\n";
  });

  router.get("/audit/checkpoint", async (ctx) => {
    const size = ctx.query.size;
    let cp;
    if (size === undefined) cp = await audit.checkpoint();
    else {
      const n = Number(size);
      if (typeof size !== "string" || !/^\d+$/.test(size) || !Number.isSafeInteger(n)) throw badRequest("size must be a tree size (a whole number)");
      cp = await audit.checkpointAt(n);
      if (!cp) throw new HttpError(404, "NOT_FOUND", `no checkpoint was signed at tree size ${n}`);
    }
    ctx.type = "text/plain; charset=utf-8";
    ctx.set("cache-control", "no-store");
    ctx.body = await audit.cosignedNote(cp);
  });

  router.post("/audit/cosignatures", async (ctx) => {
    requireContentType(ctx, ["text/plain"]);
    const body = (await readBody(ctx.req, MAX_BODY)).toString("utf8");
    try {
      ctx.body = { accepted: await audit.addCosignatures(body) };
    } catch (e) {
      if (e instanceof InvalidInput) throw badRequest(e.message);
      throw e;
    }
  });

  for (const kind of ["ndjson", "csv"] as const) {
    router.get(`/audit/export.${kind}`, async (ctx) => {
      requireViewer(ctx, ["REGULATOR", "ADMIN"], "audit exports are for the REGULATOR and ADMIN roles");
      let filter;
      try {
        const q = ctx.query;
        const one = (k: string) => (typeof q[k] === "string" ? (q[k] as string) : undefined);
        const actions = q.action === undefined ? undefined : ([] as string[]).concat(q.action as string | string[]);
        filter = parseEventFilter(
          {
            from: one("from"),
            to: one("to"),
            actions,
            actorId: one("actorId"),
            datasetId: one("datasetId"),
            ownerId: one("ownerId"),
            buyerId: one("buyerId"),
            subjectId: one("subjectId"),
            seq: one("seq"),
          },
          "query",
        );
      } catch (e) {
        if (e instanceof DomainError) throw badRequest(e.message);
        throw e;
      }
      const prepared = await prepareExport(audit, filter);
      const stamp = prepared.checkpoint.size;
      ctx.set("x-audit-tree-size", String(stamp));
      ctx.set("x-audit-root", prepared.checkpoint.root);
      ctx.set("x-audit-checkpoint", Buffer.from(prepared.checkpoint.note).toString("base64"));
      ctx.set("cache-control", "no-store");
      ctx.set("content-disposition", `attachment; filename="audit-log-${stamp}.${kind}"`);
      ctx.type = kind === "ndjson" ? "application/x-ndjson; charset=utf-8" : "text/csv; charset=utf-8";
      ctx.body = Readable.from(kind === "ndjson" ? ndjsonExport(audit, prepared) : csvExport(audit, prepared));
    });
  }
}

function badRequest(message: string): HttpError {
  return new HttpError(400, "BAD_REQUEST", message);
}
