import { builder } from "../../graphql/builder.ts";
import type { ColumnStats, ColumnType } from "../model.ts";
import { dateText } from "../chunk-format.ts";
import { ColumnTypeEnum, DatasetFormatEnum } from "./enums.ts";
import { DatasetColumnRef, DatasetRef, DatasetVersionRef, UploadJobRef } from "./refs.ts";

/** A statistic as text in the column's own terms: dates as YYYY-MM-DD, timestamps as ISO instants. */
function shown(type: ColumnType, v: number | null): string | null {
  if (v === null) return null;
  switch (type) {
    case "date":
      return dateText(v);
    case "timestamp":
      return new Date(v).toISOString();
    case "boolean":
      return v ? "true" : "false";
    default:
      return String(v);
  }
}

const ColumnStatsRef = builder.objectRef<ColumnStats & { type: ColumnType }>("ColumnStats").implement({
  description: "Exact statistics of a column. Shown to the dataset's owner only; buyers never see real extremes or counts.",
  fields: (t) => ({
    count: t.exposeInt("count", { description: "Rows with a value." }),
    nullCount: t.exposeInt("nullCount"),
    distinct: t.exposeInt("distinct", { nullable: true, description: "Distinct values (strings and booleans)." }),
    min: t.string({ nullable: true, resolve: (s) => shown(s.type, s.min) }),
    max: t.string({ nullable: true, resolve: (s) => shown(s.type, s.max) }),
    mean: t.float({
      nullable: true,
      description: "Numbers only (booleans: the share of true).",
      resolve: (s) => (s.type === "date" || s.type === "timestamp" ? null : s.mean),
    }),
  }),
});

DatasetColumnRef.implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    type: t.field({ type: ColumnTypeEnum, resolve: (c) => c.type }),
    nullable: t.exposeBoolean("nullable", { description: "Whether any row has no value." }),
    stats: t.field({ type: ColumnStatsRef, resolve: (c) => ({ ...c.chunks.stats, type: c.type }) }),
  }),
});

DatasetVersionRef.implement({
  description: "One immutable upload of a dataset, stored as columnar chunks. Visible to its owner only.",
  authScopes: (v) => ({ self: v.ownerId }),
  fields: (t) => ({
    id: t.globalID({ resolve: (v) => ({ type: "DatasetVersion", id: v._id }) }),
    number: t.exposeInt("version"),
    dataset: t.field({
      type: DatasetRef,
      resolve: async (v, _args, ctx) => (await ctx.services.datasets.getDataset(v.datasetId))!,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    rowCount: t.exposeInt("rowCount", { description: "Exact number of rows (owner only)." }),
    columns: t.field({
      type: [DatasetColumnRef],
      description: "The schema, in file order, with each column's statistics.",
      resolve: (v) => v.schema.columns.map((c, i) => ({ ...c, chunks: v.columns[i]! })),
    }),
    chunkRows: t.exposeInt("chunkRows", { description: "Rows per columnar chunk (the last may be shorter)." }),
    chunkCount: t.exposeInt("chunkCount"),
    sourceFormat: t.field({ type: DatasetFormatEnum, resolve: (v) => v.sourceFormat }),
    sourceBytes: t.exposeFloat("sourceBytes", { description: "Size of the uploaded file in bytes." }),
    sourceSha256: t.exposeString("sourceSha256", { description: "Hex SHA-256 of the uploaded file, as recorded in the audit log." }),
    uploadJob: t.field({
      type: UploadJobRef,
      nullable: true,
      resolve: (v, _args, ctx) => ctx.services.datasets.getUploadJob(v.uploadId),
    }),
  }),
});
