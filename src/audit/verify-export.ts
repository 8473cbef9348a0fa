/**
 * Offline verification of an NDJSON export (see export-format.ts) against a signed checkpoint and
 * the log's public key. Needs no server and no database: only this file's imports.
 *
 * A complete export is checked by recomputing every leaf and the root. Where it fails, the first
 * failing index is named: from the line's own evidence (not canonical, wrong position, content not
 * matching the leaf hash recorded at append time), else from the earlier signed checkpoints (the
 * first one whose prefix root no longer matches bounds the altered entry).
 */
import canonicalize from "canonicalize";
import { fromHex, leafHash, toHex } from "./hashing.ts";
import { CompactRange, verifyInclusion } from "./merkle.ts";
import { openNote, parseCheckpointText, parseVerifierKey, type Checkpoint, type VerifierKey } from "./signed-note.ts";
import { EXPORT_FORMAT } from "./export-format.ts";

export interface Failure {
  /** Log index (entry seq) of the first problem, or null when it is not about one entry. */
  index: number | null;
  /** The line number in the export file (1-based), when the problem is on a line. */
  line: number | null;
  reason: string;
}

export interface VerifyReport {
  ok: boolean;
  treeSize: number | null;
  root: string | null;
  entries: number;
  /** Complete (every entry 0…N-1) or filtered (inclusion proof per entry). */
  mode: "complete" | "filtered" | null;
  failures: Failure[];
  /** The first failing log index, if the failure could be tied to one. */
  firstFailingIndex: number | null;
  notes: string[];
}

export interface VerifyOptions {
  /** A previously trusted checkpoint (signed note): the new one must extend it. */
  trusted?: string | null;
}

interface Line {
  n: number;
  text: string;
}

export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  checkpointNote: string,
  verifierKey: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const report: VerifyReport = { ok: false, treeSize: null, root: null, entries: 0, mode: null, failures: [], firstFailingIndex: null, notes: [] };
  const fail = (index: number | null, line: number | null, reason: string) => {
    report.failures.push({ index, line, reason });
  };
  const done = () => {
    const indexed = report.failures.filter((f) => f.index !== null).map((f) => f.index!);
    report.firstFailingIndex = indexed.length > 0 ? Math.min(...indexed) : null;
    report.ok = report.failures.length === 0;
    return report;
  };

  let key: VerifierKey;
  let cp: Checkpoint;
  try {
    key = parseVerifierKey(verifierKey);
    cp = parseCheckpointText(openNote(checkpointNote, key));
  } catch (e) {
    fail(null, null, `checkpoint: ${(e as Error).message}`);
    return done();
  }
  report.treeSize = cp.size;
  report.root = cp.root.toString("hex");
  report.notes.push(`checkpoint signature valid: ${cp.origin}, ${cp.size} entries, root ${report.root}`);

  let trusted: Checkpoint | null = null;
  if (options.trusted) {
    try {
      trusted = parseCheckpointText(openNote(options.trusted, key));
    } catch (e) {
      fail(null, null, `trusted checkpoint: ${(e as Error).message}`);
      return done();
    }
    if (trusted.origin !== cp.origin) fail(null, null, `trusted checkpoint is for log ${trusted.origin}, not ${cp.origin}`);
    if (trusted.size > cp.size)
      fail(
        null,
        null,
        `trusted checkpoint (${trusted.size}) is larger than the checkpoint (${cp.size}): the log shrank or the checkpoints are swapped`,
      );
    if (trusted.size === cp.size && !trusted.root.equals(cp.root)) {
      fail(null, null, `FORK: two different trees of size ${cp.size} are signed by ${key.name}: the log rewrote its history`);
    }
  }

  const it = toLines(lines);
  const first = await it.next();
  if (first.done) {
    fail(0, null, "export is empty (no header line)");
    return done();
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(first.value.text) as Record<string, unknown>;
  } catch {
    fail(null, 1, "line 1 is not the export header (JSON)");
    return done();
  }
  if (header.format !== EXPORT_FORMAT) fail(null, 1, `line 1: format is ${JSON.stringify(header.format)}, expected ${EXPORT_FORMAT}`);
  if (header.treeSize !== cp.size) {
    fail(
      null,
      1,
      `the export was made against tree size ${String(header.treeSize)}, the checkpoint is of size ${cp.size}: use the checkpoint from the export's header`,
    );
    return done();
  }
  const filtered = header.filter !== null && header.filter !== undefined;
  report.mode = filtered ? "filtered" : "complete";

  // Earlier signed checkpoints, for localising a failure: size → root.
  const history = new Map<number, Buffer>();
  for (const note of Array.isArray(header.checkpoints) ? (header.checkpoints as unknown[]) : []) {
    try {
      const c = parseCheckpointText(openNote(String(note), key));
      if (c.origin === cp.origin && c.size <= cp.size) history.set(c.size, c.root);
    } catch {
      report.notes.push("an earlier checkpoint in the header does not verify; ignored");
    }
  }
  if (trusted) history.set(trusted.size, trusted.root);

  if (filtered) await verifyFiltered(it, cp, report, fail, header.filter as Record<string, unknown>);
  else await verifyComplete(it, cp, history, trusted, report, fail);
  return done();
}

interface Row {
  line: number;
  leaf: Buffer;
  recorded: Buffer | null;
  seq: unknown;
  /** What is wrong with the line on its own, if anything. */
  problem: string | null;
}

async function verifyComplete(
  it: AsyncIterator<Line>,
  cp: Checkpoint,
  history: Map<number, Buffer>,
  trusted: Checkpoint | null,
  report: VerifyReport,
  fail: (index: number | null, line: number | null, reason: string) => void,
): Promise<void> {
  const rows: Row[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const { n, text } = r.value;
    const parsed = parseEntryLine(text);
    if ("error" in parsed) {
      rows.push({ line: n, leaf: leafHash(text), recorded: null, seq: null, problem: parsed.error });
      continue;
    }
    const leaf = leafHash(parsed.entryText);
    const position = rows.length;
    const problem =
      parsed.seq !== position
        ? `expected entry ${position} here but found seq ${String(parsed.seq)}: an entry was deleted, inserted or moved`
        : !leaf.equals(parsed.leafHash)
          ? "its content no longer hashes to the leaf hash recorded when it was appended: the entry was altered"
          : null;
    rows.push({ line: n, leaf, recorded: parsed.leafHash, seq: parsed.seq, problem });
  }
  report.entries = rows.length;
  const leaves = rows.map((r) => r.leaf);
  const rootOf = (ls: Buffer[]) => {
    const range = new CompactRange();
    for (const l of ls) range.append(l);
    return range.root();
  };

  // Prefix roots at every earlier signed size: the first that fails bounds the damage.
  let lastGood = 0;
  let historyFailure: { after: number; upTo: number } | null = null;
  {
    const range = new CompactRange();
    const sizes = [...history.keys()].filter((s) => s <= rows.length).sort((a, b) => a - b);
    let next = 0;
    for (const size of sizes) {
      while (range.size < size) range.append(leaves[next++]!);
      if (range.root().equals(history.get(size)!)) lastGood = size;
      else {
        historyFailure = { after: lastGood, upTo: size };
        break;
      }
    }
  }
  if (trusted) {
    if (trusted.size > rows.length) fail(null, null, `the export is shorter than the trusted checkpoint (${trusted.size})`);
    else if (historyFailure && historyFailure.upTo <= trusted.size) {
      fail(historyFailure.after, null, `not consistent with the trusted checkpoint of size ${trusted.size}: history before it was changed`);
    } else report.notes.push(`consistent with the trusted checkpoint of size ${trusted.size}`);
  }

  const firstProblem = rows.findIndex((r) => r.problem !== null);
  if (rows.length === cp.size && rootOf(leaves).equals(cp.root)) {
    if (firstProblem >= 0) {
      const r = rows[firstProblem]!;
      fail(firstProblem, r.line, `entry ${firstProblem}: the entry matches the signed tree but its recorded leaf hash was altered`);
    } else report.notes.push(`all ${rows.length} leaves recomputed; the root matches the signed checkpoint`);
    return;
  }

  // One line too many: find the one whose removal restores the signed root.
  if (rows.length === cp.size + 1) {
    const candidates = firstProblem >= 0 ? [firstProblem - 1, firstProblem] : [rows.length - 1];
    for (const p of candidates) {
      if (p < 0) continue;
      if (rootOf([...leaves.slice(0, p), ...leaves.slice(p + 1)]).equals(cp.root)) {
        fail(p, rows[p]!.line, `entry ${p}: this line was inserted; without it the export matches the signed checkpoint`);
        return;
      }
    }
  }
  if (firstProblem >= 0) {
    const r = rows[firstProblem]!;
    fail(firstProblem, r.line, `entry ${firstProblem}: ${r.problem}`);
    return;
  }
  if (rows.length < cp.size) {
    fail(
      rows.length,
      null,
      `the export ends after ${rows.length} entries; the checkpoint covers ${cp.size}: entry ${rows.length} onwards is missing`,
    );
    return;
  }
  if (rows.length > cp.size) {
    fail(cp.size, rows[cp.size]!.line, `the export has more entries than the checkpoint's ${cp.size}: entry ${cp.size} onwards was added`);
    return;
  }
  if (historyFailure) {
    const { after, upTo } = historyFailure;
    fail(
      after,
      rows[after]?.line ?? null,
      upTo - after === 1
        ? `entry ${after} was altered: the signed checkpoint of size ${upTo} no longer matches`
        : `an entry in [${after}, ${upTo}) was altered (entry ${after} is the first that can be to blame): the signed checkpoint of size ${upTo} no longer matches`,
    );
    return;
  }
  fail(
    null,
    null,
    "the recomputed root does not match the signed checkpoint, and the altered entry cannot be located (its recorded leaf hash was rewritten too)",
  );
}

async function verifyFiltered(
  it: AsyncIterator<Line>,
  cp: Checkpoint,
  report: VerifyReport,
  fail: (index: number | null, line: number | null, reason: string) => void,
  filter: Record<string, unknown>,
): Promise<void> {
  let previous = -1;
  let count = 0;
  const seen = new Set<number>();
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const { n, text } = r.value;
    count++;
    const parsed = parseEntryLine(text);
    if ("error" in parsed) {
      fail(previous + 1, n, `line ${n}: ${parsed.error}`);
      continue;
    }
    const seq = parsed.seq;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq <= previous || seq >= cp.size) {
      fail(typeof seq === "number" ? seq : previous + 1, n, `line ${n}: seq ${String(seq)} is out of order or outside the tree of ${cp.size}`);
      continue;
    }
    previous = seq;
    seen.add(seq);
    const leaf = leafHash(parsed.entryText);
    if (!parsed.proof) {
      fail(seq, n, `entry ${seq}: a filtered export needs an inclusion proof on every line`);
      continue;
    }
    if (!verifyInclusion(seq, cp.size, leaf, parsed.proof, cp.root)) {
      fail(seq, n, `entry ${seq}: not included in the signed tree (altered, or its proof is wrong)`);
    }
  }
  report.entries = count;
  // A bundle of one position claims that entry: the signed tree covers it, so it must be there.
  const claimed = filter.seq === undefined || filter.seq === null ? null : Number(filter.seq);
  if (claimed !== null && Number.isSafeInteger(claimed) && claimed < cp.size && !seen.has(claimed)) {
    fail(claimed, null, `entry ${claimed} is covered by the signed checkpoint of ${cp.size} but missing from the bundle: it was deleted or withheld`);
  }
  if (report.failures.length === 0) {
    report.notes.push(`all ${count} entries proven included in the signed tree`);
    if (claimed === null)
      report.notes.push("a filtered export proves that its entries are in the log, not that no other entry matches: use a complete export for that");
  }
}

type ParsedLine = { entryText: string; seq: unknown; leafHash: Buffer; proof: Buffer[] | null } | { error: string };

function parseEntryLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "the line is not JSON" };
  }
  if (canonicalize(value) !== text) return { error: "the line is not canonical JSON (RFC 8785): it was edited" };
  const o = value as Record<string, unknown>;
  if (typeof o.entry !== "object" || o.entry === null || Array.isArray(o.entry)) return { error: "the line has no entry object" };
  let recorded: Buffer;
  try {
    recorded = fromHex(String(o.leafHash));
  } catch {
    return { error: "the line has no valid leafHash" };
  }
  let proof: Buffer[] | null = null;
  if (o.proof !== undefined) {
    if (!Array.isArray(o.proof)) return { error: "proof must be a list of hashes" };
    try {
      proof = o.proof.map((p) => fromHex(String(p)));
    } catch {
      return { error: "proof holds something that is not a hash" };
    }
  }
  const entryText = canonicalize(o.entry)!;
  return { entryText, seq: (o.entry as Record<string, unknown>).seq, leafHash: recorded, proof };
}

async function* numbered(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<Line> {
  let n = 0;
  for await (const raw of lines) {
    n++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text === "") continue;
    yield { n, text };
  }
}

function toLines(lines: AsyncIterable<string> | Iterable<string>): AsyncIterator<Line> {
  return numbered(lines)[Symbol.asyncIterator]();
}

export { toHex };
