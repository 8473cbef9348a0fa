/** Listens on the configured address and, on close, drains in-flight requests up to a deadline. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type Koa from "koa";
import type { Logger } from "../logger.ts";

export interface Listening {
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then closes what is left. */
  close(): Promise<void>;
}

export async function listen(app: Koa, where: { host: string; port: number; shutdownTimeoutMs: number }, log: Logger): Promise<Listening> {
  const server = createServer(app.callback());
  // A streaming dataset upload (PUT /datasets/:id/versions) can take longer than Node's 5-minute
  // default for receiving a whole request; headersTimeout still bounds slow headers.
  server.requestTimeout = 60 * 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(where.port, where.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${where.host.includes(":") ? `[${where.host}]` : where.host}:${port}`;
  return { url, close: () => drain(server, where.shutdownTimeoutMs, log) };
}

async function drain(server: Server, timeoutMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Keep-alive sockets become idle once their in-flight request ends; close them as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([closed.then(() => "drained" as const), deadline]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (outcome === "timeout") {
    log.warn({ timeoutMs }, "shutdown deadline passed; closing remaining connections");
    server.closeAllConnections();
    await closed;
  }
}
