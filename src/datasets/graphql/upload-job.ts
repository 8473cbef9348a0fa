import { builder } from "../../graphql/builder.ts";
import { DatasetFormatEnum, UploadStateEnum } from "./enums.ts";
import { DatasetRef, DatasetVersionRef, UploadErrorRef, UploadJobRef } from "./refs.ts";

UploadErrorRef.implement({
  description: "Why an upload failed: the rule it broke and where. Never quotes a value from the file.",
  fields: (t) => ({
    rule: t.exposeString("rule"),
    message: t.exposeString("message"),
    line: t.exposeInt("line", { nullable: true }),
    row: t.exposeInt("row", { nullable: true }),
    column: t.exposeString("column", { nullable: true }),
  }),
});

UploadJobRef.implement({
  description: "One upload being converted into a dataset version. Poll it (`uploadJob(id)`) to follow progress.",
  authScopes: (j) => ({ self: j.ownerId }),
  fields: (t) => ({
    id: t.globalID({ resolve: (j) => ({ type: "UploadJob", id: j._id }) }),
    dataset: t.field({ type: DatasetRef, resolve: async (j, _args, ctx) => (await ctx.services.datasets.getDataset(j.datasetId))! }),
    state: t.field({ type: UploadStateEnum, resolve: (j) => j.state }),
    phase: t.exposeString("phase", { description: "receiving, converting, reconverting (a second pass after a type widened), committing or done." }),
    format: t.field({ type: DatasetFormatEnum, nullable: true, resolve: (j) => j.format }),
    bytesDone: t.exposeFloat("bytesDone", { description: "Bytes read so far (in a second pass: bytes re-read)." }),
    bytesTotal: t.exposeFloat("bytesTotal", { nullable: true, description: "The announced size, when the client sent one." }),
    rowsDone: t.exposeInt("rowsDone", { description: "Rows converted so far (updated every 65 536 rows or second)." }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    version: t.field({
      type: DatasetVersionRef,
      nullable: true,
      description: "The version this upload created, once it succeeded.",
      resolve: (j, _args, ctx) => (j.version === null ? null : ctx.services.datasets.getVersion(j.datasetId, j.version)),
    }),
    error: t.field({ type: UploadErrorRef, nullable: true, resolve: (j) => j.error }),
  }),
});
