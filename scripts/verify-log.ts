/**
 * Offline verifier of an audit-log export.
 *
 *   npm run verify-log -- <export.ndjson> <checkpoint> <public key> [--trusted <older checkpoint>] [--json]
 *
 *   <export.ndjson>  from GET /audit/export.ndjson (complete, or filtered with a proof per entry)
 *   <checkpoint>     a file with the signed checkpoint (GET /audit/checkpoint), or "-" for the one
 *                    in the export's header (it is still checked against the public key)
 *   <public key>     the log's verifier key `<name>+<key id>+<base64>` (GET /audit/key), or a file holding it
 *   --trusted FILE   a checkpoint you saw earlier: the new one must extend it (same size, other root = fork)
 *
 * Checks the checkpoint signature, recomputes every leaf and the Merkle root from the exported events,
 * and names the first index that fails. Exit status: 0 verified, 1 failed, 2 could not run.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { verifyExport } from "../src/audit/verify-export.ts";

const USAGE = "usage: verify-log <export.ndjson> <checkpoint file | -> <public key | key file> [--trusted <checkpoint file>] [--json]";

async function main(argv: string[]): Promise<number> {
  const positional: string[] = [];
  let trustedFile: string | null = null;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--trusted") trustedFile = argv[++i] ?? null;
    else if (a === "--json") json = true;
    else if (a === "-h" || a === "--help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    } else positional.push(a);
  }
  if (positional.length !== 3 || (argv.includes("--trusted") && !trustedFile)) {
    process.stderr.write(USAGE + "\n");
    return 2;
  }
  const [exportFile, checkpointArg, keyArg] = positional as [string, string, string];
  const vkey = /^[^+\s]+\+[0-9a-f]{8}\+\S+$/.test(keyArg) ? keyArg : (await readFile(keyArg, "utf8")).trim();
  const checkpoint = checkpointArg === "-" ? await headerCheckpoint(exportFile) : await readFile(checkpointArg, "utf8");
  const trusted = trustedFile ? await readFile(trustedFile, "utf8") : null;
  const lines = createInterface({ input: createReadStream(exportFile, "utf8"), crlfDelay: Infinity });
  const report = await verifyExport(lines, checkpoint, vkey, { trusted });

  if (json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    for (const n of report.notes) process.stdout.write(`  ${n}\n`);
    if (report.ok) {
      process.stdout.write(
        `OK: ${report.entries} entries verified against the signed checkpoint of size ${report.treeSize} (${report.mode} export)\n`,
      );
    } else {
      for (const f of report.failures) {
        const where = [f.index !== null ? `index ${f.index}` : null, f.line !== null ? `line ${f.line}` : null].filter(Boolean).join(", ");
        process.stdout.write(`  FAIL${where ? ` (${where})` : ""}: ${f.reason}\n`);
      }
      process.stdout.write(
        report.firstFailingIndex !== null
          ? `FAILED: the first failing index is ${report.firstFailingIndex}\n`
          : "FAILED: the export does not verify\n",
      );
    }
  }
  return report.ok ? 0 : 1;
}

/** The checkpoint in the export's header line. */
async function headerCheckpoint(file: string): Promise<string> {
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  for await (const line of lines) {
    lines.close();
    const header = JSON.parse(line) as { checkpoint?: unknown };
    if (typeof header.checkpoint !== "string") throw new Error("the export's first line has no checkpoint");
    return header.checkpoint;
  }
  throw new Error("the export is empty");
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`verify-log: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
