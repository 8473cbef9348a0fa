import { builder } from "../../graphql/builder.ts";
import type { ConsistencyBundle, InclusionBundle } from "../service.ts";
import { AuditCheckpointRef } from "./checkpoint.ts";

export const InclusionProofRef = builder.objectRef<InclusionBundle>("AuditInclusionProof").implement({
  description:
    "Offline bundle: entry `index` is in the tree of `treeSize` entries signed by `checkpoint`. Check with " +
    "leaf = SHA-256(0x00 ‖ entry) and the RFC 9162 §2.1.3.2 algorithm.",
  fields: (t) => ({
    index: t.exposeInt("index"),
    treeSize: t.exposeInt("treeSize"),
    entry: t.exposeString("entry"),
    leafHash: t.exposeString("leafHash"),
    proof: t.exposeStringList("proof", { description: "Sibling hashes (hex), bottom-up." }),
    checkpoint: t.field({ type: AuditCheckpointRef, resolve: (b) => b.checkpoint }),
  }),
});

export const ConsistencyProofRef = builder.objectRef<ConsistencyBundle>("AuditConsistencyProof").implement({
  description: "The tree of `first` entries is a prefix of the tree of `second` (RFC 9162 §2.1.4): the log only appended.",
  fields: (t) => ({
    first: t.exposeInt("first"),
    second: t.exposeInt("second"),
    firstRoot: t.exposeString("firstRoot"),
    secondRoot: t.exposeString("secondRoot"),
    proof: t.exposeStringList("proof", { description: "Hashes (hex) in RFC 9162 order." }),
    checkpoint: t.field({ type: AuditCheckpointRef, description: "The signed checkpoint of size `second`.", resolve: (b) => b.checkpoint }),
  }),
});
