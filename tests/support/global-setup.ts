/**
 * Says loudly, once per run, which real servers the integration suites will talk to, and
 * refuses to run in CI without them: a suite skipped in CI is a suite that does not exist.
 */
export default function setup(): void {
  const missing: string[] = [];
  if (!process.env.MONGODB_URI) missing.push("MONGODB_URI (MongoDB-wire server: FerretDB or MongoDB)");
  if (!process.env.STRIPE_MOCK_URL) missing.push("STRIPE_MOCK_URL (stripe-mock, e.g. http://127.0.0.1:12111)");
  if (!process.env.SPARK_CONNECT_URL) missing.push("SPARK_CONNECT_URL (Spark Connect, e.g. sc://127.0.0.1:15002)");
  if (missing.length === 0) {
    console.log(`[servers] MongoDB-wire server: ${redact(process.env.MONGODB_URI!)}`);
    console.log(`[servers] stripe-mock: ${process.env.STRIPE_MOCK_URL}`);
    console.log(`[servers] Spark Connect: ${redact(process.env.SPARK_CONNECT_URL!)}`);
    return;
  }
  const banner = `\n!!! SKIPPING suites that need: ${missing.join("; ")}.\n!!! Run them with bash .ci/run, or set the variables yourself.\n`;
  if (process.env.CI) throw new Error(`CI must run every suite, but these are not set: ${missing.join("; ")}`);
  console.warn(banner);
}

function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, "//***@").replace(/token=[^;]*/, "token=***");
}
