/**
 * The demo marketplace seeded into an empty store: one account per kind of user, each with an
 * API key printed once for local use (and kept in DATA_DIR/demo-credentials.json, mode 0600).
 * Refused when NODE_ENV=production. Later issues add demo datasets and listings here.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Services } from "../src/exchange/index.ts";
import type { Role } from "../src/accounts/model.ts";
import type { Logger } from "../src/logger.ts";
import { seedDemoDatasets } from "./datasets.ts";
import { DEMO_LISTINGS, seedDemoListings } from "./demo-listings.ts";
import { seedDemoAnalysis } from "./demo-analysis.ts";

export interface DemoCredential {
  role: Role;
  email: string;
  password: string;
  apiKey: string;
}

export const DEMO_ACCOUNTS: ReadonlyArray<{ email: string; roles: Role[] }> = [
  { email: "owner@demo.exchange", roles: ["OWNER"] },
  { email: "buyer@demo.exchange", roles: ["BUYER"] },
  { email: "regulator@demo.exchange", roles: ["REGULATOR"] },
  { email: "admin@demo.exchange", roles: ["ADMIN"] },
];

export class SeedRefused extends Error {
  constructor() {
    super("demo seed is refused when NODE_ENV=production");
    this.name = "SeedRefused";
  }
}

/** Seeds the demo accounts into an empty store; returns their credentials, or null if not empty. */
export async function seedDemo(
  services: Services,
  options: { dataDir: string; production: boolean; log?: Logger; print?: (line: string) => void },
): Promise<DemoCredential[] | null> {
  if (options.production) throw new SeedRefused();
  if ((await services.accounts.countAccounts()) > 0) return null;
  const credentials: DemoCredential[] = [];
  let ownerId: string | null = null;
  const accountIds: Partial<Record<Role, string>> = {};
  for (const { email, roles } of DEMO_ACCOUNTS) {
    const password = `Demo-${randomBytes(9).toString("base64url")}`;
    const account = await services.accounts.createAccount(email, password, roles);
    const { secret } = await services.accounts.createApiKey(account._id, "demo key");
    if (roles.includes("OWNER")) ownerId ??= account._id;
    accountIds[roles[0]!] ??= account._id;
    credentials.push({ role: roles[0]!, email, password, apiKey: secret });
  }
  await mkdir(options.dataDir, { recursive: true });
  const file = join(options.dataDir, "demo-credentials.json");
  await writeFile(file, JSON.stringify(credentials, null, 2) + "\n", { mode: 0o600 });
  const print = options.print ?? ((line: string) => process.stdout.write(line + "\n"));
  print("Seeded demo accounts (local use only; also saved to " + file + "):");
  for (const c of credentials) print(`  ${c.role.padEnd(9)} ${c.email.padEnd(24)} API key: ${c.apiKey}`);
  options.log?.info({ accounts: credentials.map((c) => c.email) }, "seeded demo accounts");
  // The demo owner's datasets (generated, deterministic, small), ingested through the upload path.
  const datasets = ownerId ? await seedDemoDatasets(services, ownerId, { ...(options.log ? { log: options.log } : {}) }) : [];
  if (datasets.length > 0) print(`Seeded demo datasets for owner@demo.exchange: ${datasets.map((d) => `${d.key} (${d.rows} rows)`).join(", ")}`);
  // A policy and a published bilingual listing over each demo dataset (seed/demo-listings.ts).
  const listings = ownerId ? await seedDemoListings(services, ownerId, datasets, options.log) : [];
  if (listings.length > 0) print(`Seeded ${listings.length} published demo listings (search them with searchListings, e.g. query: "出租车")`);
  // The demo buyer: access to the taxi listing, credit, and an approved analysis to run.
  // seedDemoListings returns one id per dataset that has a listing spec, in dataset order.
  const taxi = datasets.filter((d) => DEMO_LISTINGS[d.key]).findIndex((d) => d.key === "taxi_trips");
  const taxiListingId = taxi >= 0 ? listings[taxi] : undefined;
  if (ownerId && taxiListingId && accountIds.BUYER && accountIds.ADMIN) {
    const a = await seedDemoAnalysis(services, { ownerId, buyerId: accountIds.BUYER, adminId: accountIds.ADMIN, taxiListingId }, options.log);
    const gid = Buffer.from(`Analysis:${a.analysisId}`).toString("base64");
    print(`Seeded an approved analysis for buyer@demo.exchange on the taxi listing: runAnalysis(input: {analysisId: "${gid}"})`);
  }
  return credentials;
}
