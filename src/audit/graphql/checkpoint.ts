import { builder } from "../../graphql/builder.ts";
import type { AuditCheckpointDoc } from "../model.ts";

export const AuditCheckpointRef = builder.objectRef<AuditCheckpointDoc>("AuditCheckpoint").implement({
  description:
    "A signed tree head in the C2SP tlog-checkpoint signed-note form: origin, tree size and root hash, signed " +
    "with the log's Ed25519 key. Public: anyone may hold the log to it.",
  fields: (t) => ({
    treeSize: t.int({ resolve: (c) => c.size }),
    rootHash: t.exposeString("root", { description: "Hex SHA-256 Merkle root of the first treeSize entries." }),
    note: t.string({ description: "The signed note, exactly as signed (verify it with the log's verifier key).", resolve: (c) => c.note }),
    signedAt: t.expose("signedAt", { type: "DateTime" }),
  }),
});

export const AuditLogInfoRef = builder.objectRef<{ origin: string; verifierKey: string }>("AuditLogInfo").implement({
  description: "Who signs the audit log, and how to check it.",
  fields: (t) => ({
    origin: t.exposeString("origin", { description: "The checkpoints' origin line and the signing key's name." }),
    verifierKey: t.exposeString("verifierKey", {
      description: "The Ed25519 public key as a C2SP verifier key `<name>+<key id>+<base64(0x01 ‖ key)>`; `npm run verify-log` takes it.",
    }),
    latestCheckpoint: t.field({
      type: AuditCheckpointRef,
      description: "A checkpoint of every event recorded so far (signed now if needed).",
      resolve: (_i, _a, ctx) => ctx.services.audit.checkpoint(),
    }),
  }),
});
