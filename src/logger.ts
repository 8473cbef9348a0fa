/** Structured JSON logs (pino). Never log raw rows, secrets or tokens: log ids and prefixes. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "data-exchange" },
    redact: { paths: ["password", "secret", "token", "*.password", "*.secret", "*.token", "authorization", "*.authorization"], censor: "[redacted]" },
  });
}
