/**
 * One error body for every non-GraphQL route: `{ error: { code, message, requestId, …details } }`.
 * A route throws `HttpError`; the middleware here writes the body. Unexpected faults become a
 * masked 500 whose detail goes to the log under the request id, never to the caller.
 */
import type { Middleware } from "koa";
import type { Logger } from "../logger.ts";
import type { ErrorCode } from "../error-codes.ts";

export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  /** Extra top-level fields beside `error` (e.g. the upload job a refusal belongs to). */
  readonly extra: Record<string, unknown>;
  constructor(status: number, code: ErrorCode, message: string, details: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.extra = extra;
  }
}

export function errorBody(ctx: { state: { requestId?: string } }, code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, ...details, requestId: String(ctx.state.requestId ?? "") } };
}

/** Koa's own HTTP errors (router's 405/501, body-size refusals) carry `status` and `expose`. */
function koaStatus(e: unknown): number | null {
  const s = (e as { status?: unknown; statusCode?: unknown })?.status ?? (e as { statusCode?: unknown })?.statusCode;
  return typeof s === "number" && s >= 400 && s < 500 ? s : null;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "NOT_AUTHORIZED",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  501: "METHOD_NOT_ALLOWED",
};

export function errorBodies(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // The router leaves these bodiless (with an Allow header for 405/501): give them the one body.
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) {
          ctx.status = 404;
          ctx.body = errorBody(ctx, "NOT_FOUND", `no route for ${ctx.method} ${ctx.path}`);
        } else if (ctx.status === 405 || ctx.status === 501) {
          ctx.status = 405;
          ctx.body = errorBody(ctx, "METHOD_NOT_ALLOWED", `${ctx.method} is not allowed on ${ctx.path}`);
        }
      }
    } catch (e) {
      if (e instanceof HttpError) {
        ctx.status = e.status;
        ctx.body = { ...errorBody(ctx, e.code, e.message, e.details), ...e.extra };
        if (e.status === 401) ctx.set("www-authenticate", "Bearer");
        return;
      }
      const status = koaStatus(e);
      if (status !== null) {
        ctx.status = status === 501 ? 405 : status;
        const message = status === 405 || status === 501 ? `${ctx.method} is not allowed on ${ctx.path}` : (e as Error).message;
        ctx.body = errorBody(ctx, CODE_BY_STATUS[status] ?? "BAD_REQUEST", message);
        const allow = (e as { headers?: Record<string, string> }).headers?.Allow;
        if (allow) ctx.set("allow", allow);
        return;
      }
      log.error({ err: e, requestId: ctx.state.requestId, path: ctx.path }, "unexpected fault");
      ctx.status = 500;
      ctx.body = errorBody(ctx, "INTERNAL_SERVER_ERROR", "internal error; the log has it under the request id");
    }
  };
}

/** Refuses a request body whose content type is not one of `types` (415), before anything reads it. */
export function requireContentType(ctx: { get(h: string): string; method: string }, types: readonly string[]): void {
  const given = ctx.get("content-type").split(";")[0]!.trim().toLowerCase();
  if (!types.includes(given)) {
    throw new HttpError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `the body must be ${types.join(" or ")}${given ? `, not ${given}` : " (no Content-Type was sent)"}`,
    );
  }
}

/** Reads a whole request body up to `limit` bytes; 413 past it. */
export async function readBody(req: AsyncIterable<unknown>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new HttpError(413, "PAYLOAD_TOO_LARGE", `the body may be at most ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
