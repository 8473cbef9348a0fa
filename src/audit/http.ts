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
 * Exports use the same bearer credentials as /graphql. Both carry the checkpoint they are
 * consistent with: NDJSON in its header line, both in X-Audit-Tree-Size / X-Audit-Checkpoint
 * (base64 of the signed note).
 */
import { Readable } from "node:stream";
import type Router from "@koa/router";
import type { Context } from "koa";
import type { Services } from "../services.ts";
import { Unauthenticated } from "../accounts/errors.ts";
import { DomainError, InvalidInput } from "../errors.ts";
import { parseEventFilter } from "./search.ts";
import { csvExport, ndjsonExport, prepareExport } from "./export.ts";

const MAX_BODY = 64 * 1024;

export function registerAuditRoutes(router: Router, services: Pick<Services, "audit" | "accounts">): void {
  const { audit } = services;

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
      if (typeof size !== "string" || !/^\d+$/.test(size) || !Number.isSafeInteger(n)) return badRequest(ctx, "size must be a tree size (a whole number)");
      cp = await audit.checkpointAt(n);
      if (!cp) {
        ctx.status = 404;
        ctx.body = { error: "NOT_FOUND", message: `no checkpoint was signed at tree size ${n}` };
        return;
      }
    }
    ctx.type = "text/plain; charset=utf-8";
    ctx.set("cache-control", "no-store");
    ctx.body = await audit.cosignedNote(cp);
  });

  router.post("/audit/cosignatures", async (ctx) => {
    const body = await readBody(ctx);
    if (body === null) return badRequest(ctx, `body must be a signed note of at most ${MAX_BODY} bytes`);
    try {
      ctx.body = { accepted: await audit.addCosignatures(body) };
    } catch (e) {
      if (e instanceof InvalidInput) return badRequest(ctx, e.message);
      throw e;
    }
  });

  for (const kind of ["ndjson", "csv"] as const) {
    router.get(`/audit/export.${kind}`, async (ctx) => {
      if (!(await requireRegulator(ctx, services))) return;
      let filter;
      try {
        const q = ctx.query;
        const one = (k: string) => (typeof q[k] === "string" ? (q[k] as string) : undefined);
        const actions = q.action === undefined ? undefined : ([] as string[]).concat(q.action as string | string[]);
        filter = parseEventFilter(
          { from: one("from"), to: one("to"), actions, actorId: one("actorId"), datasetId: one("datasetId"), ownerId: one("ownerId"), buyerId: one("buyerId"), subjectId: one("subjectId"), seq: one("seq") },
          "query",
        );
      } catch (e) {
        if (e instanceof DomainError) return badRequest(ctx, e.message);
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

async function requireRegulator(ctx: Context, services: Pick<Services, "accounts">): Promise<boolean> {
  const header = ctx.get("authorization");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const deny = (status: number, code: string, message: string) => {
    ctx.status = status;
    ctx.body = { error: code, message };
    if (status === 401) ctx.set("www-authenticate", "Bearer");
    return false;
  };
  if (!match) return deny(401, "UNAUTHENTICATED", "send Authorization: Bearer <API key or session token>");
  try {
    const principal = await services.accounts.authenticate(match[1]!);
    ctx.state.keyPrefix = principal.keyPrefix ?? "session";
    ctx.state.accountId = principal.account._id;
    if (!principal.account.roles.some((r) => r === "REGULATOR" || r === "ADMIN")) {
      return deny(403, "NOT_AUTHORIZED", "audit exports are for the REGULATOR and ADMIN roles");
    }
    return true;
  } catch (e) {
    if (e instanceof Unauthenticated) return deny(401, "UNAUTHENTICATED", e.message);
    throw e;
  }
}

function badRequest(ctx: Context, message: string): void {
  ctx.status = 400;
  ctx.body = { error: "BAD_REQUEST", message };
}

async function readBody(ctx: Context): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
