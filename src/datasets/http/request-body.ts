/**
 * A request body as an async iterable of buffers, with backpressure (the socket is read only
 * as fast as chunks are taken) and WITHOUT destroying the request when the consumer stops
 * early: the route must still be able to answer (413, 422…) on the same connection.
 */
import type { IncomingMessage } from "node:http";

export function requestBody(req: IncomingMessage): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Buffer> {
      let failure: Error | null = null;
      let ended = false;
      let wake: (() => void) | null = null;
      const notify = (): void => {
        const w = wake;
        wake = null;
        w?.();
      };
      const onError = (err: Error): void => {
        failure ??= err;
        notify();
      };
      const onEnd = (): void => {
        ended = true;
        notify();
      };
      const onClose = (): void => {
        if (!req.complete) failure ??= new Error("the client closed the connection before the body ended");
        notify();
      };
      req.on("readable", notify);
      req.on("end", onEnd);
      req.on("error", onError);
      req.on("close", onClose);
      const cleanup = (): void => {
        req.off("readable", notify);
        req.off("end", onEnd);
        req.off("close", onClose);
        // Keep swallowing late errors: an 'error' without a listener would crash the process.
        req.off("error", onError);
        req.on("error", () => undefined);
      };
      return {
        async next(): Promise<IteratorResult<Buffer>> {
          for (;;) {
            const chunk = req.read() as Buffer | null;
            if (chunk !== null) return { value: chunk, done: false };
            if (failure) {
              cleanup();
              throw failure;
            }
            if (ended || req.readableEnded) {
              cleanup();
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        async return(): Promise<IteratorResult<Buffer>> {
          cleanup();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
