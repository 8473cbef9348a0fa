/**
 * Witness cosignatures (C2SP tlog-cosignature/v1). A witness fetches the latest checkpoint
 * (GET /audit/checkpoint), checks it is consistent with what it saw before (using a consistency
 * proof), and posts the note back with its cosignature line appended. Only witnesses configured in
 * AUDIT_WITNESS_KEYS are accepted; their lines are then served with the checkpoint, so a reader
 * holding a cosigned checkpoint knows the log showed the same tree to the witness.
 */
import { DuplicateKeyError, type Collection } from "../store/port.ts";
import { InvalidInput } from "../errors.ts";
import { openNote, parseCheckpointText, parseNote, parseVerifierKey, verifyCosignature, COSIGNATURE_V1, type VerifierKey } from "./signed-note.ts";
import type { AuditCheckpointDoc, AuditCosignatureDoc } from "./model.ts";

export function parseWitnessKeys(vkeys: string[]): VerifierKey[] {
  return vkeys.map((v, i) => {
    let key: VerifierKey;
    try {
      key = parseVerifierKey(v);
    } catch (e) {
      throw new Error(`AUDIT_WITNESS_KEYS: key ${i + 1}: ${(e as Error).message}`);
    }
    if (key.type !== COSIGNATURE_V1) throw new Error(`AUDIT_WITNESS_KEYS: key ${i + 1} (${key.name}) must be a cosignature/v1 key (type 0x04)`);
    return key;
  });
}

export async function acceptCosignatures(
  note: string,
  ctx: {
    logKey: VerifierKey;
    witnesses: VerifierKey[];
    checkpointAt: (size: number) => Promise<AuditCheckpointDoc | null>;
    cosignatures: Collection<AuditCosignatureDoc>;
    now: () => Date;
  },
): Promise<string[]> {
  const bad = (message: string) => new InvalidInput([{ path: "body", message }]);
  let text: string;
  try {
    text = openNote(note, ctx.logKey);
  } catch (e) {
    throw bad(`not a checkpoint signed by this log: ${(e as Error).message}`);
  }
  const cp = parseCheckpointText(text);
  const ours = await ctx.checkpointAt(cp.size);
  if (!ours || ours.root !== cp.root.toString("hex")) throw bad(`this log signed no checkpoint of size ${cp.size} with that root`);
  const accepted: string[] = [];
  for (const sig of parseNote(note).signatures) {
    const witness = ctx.witnesses.find((w) => w.name === sig.name && w.keyId.equals(sig.keyId));
    if (!witness) continue;
    try {
      verifyCosignature(text, sig, witness);
    } catch (e) {
      throw bad((e as Error).message);
    }
    try {
      await ctx.cosignatures.insert({
        _id: `${cp.size}:${witness.name}`,
        size: cp.size,
        witness: witness.name,
        line: sig.line,
        receivedAt: ctx.now().toISOString(),
      });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
    accepted.push(witness.name);
  }
  if (accepted.length === 0) throw bad("no cosignature by a configured witness (AUDIT_WITNESS_KEYS) on this note");
  return accepted;
}
