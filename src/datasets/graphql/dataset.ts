import { builder } from "../../graphql/builder.ts";
import { DatasetRef, DatasetVersionRef, UploadJobRef } from "./refs.ts";

DatasetRef.implement({
  description: "An owner's dataset: a named series of immutable versions, one per successful upload. Visible to its owner only.",
  authScopes: (ds) => ({ self: ds.ownerId }),
  fields: (t) => ({
    id: t.globalID({ resolve: (d) => ({ type: "Dataset", id: d._id }) }),
    name: t.exposeString("name"),
    description: t.exposeString("description"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    latestVersion: t.exposeInt("latestVersion", { description: "The newest version's number; 0 before the first upload succeeds." }),
    latest: t.field({
      type: DatasetVersionRef,
      nullable: true,
      description: "The newest version, or null before the first upload succeeds.",
      resolve: (d, _args, ctx) => (d.latestVersion > 0 ? ctx.services.datasets.getVersion(d._id, d.latestVersion) : null),
    }),
    version: t.field({
      type: DatasetVersionRef,
      nullable: true,
      args: { number: t.arg.int({ required: true }) },
      resolve: (d, { number }, ctx) => ctx.services.datasets.getVersion(d._id, number),
    }),
    versions: t.field({
      type: [DatasetVersionRef],
      description: "Every version, newest first (at most 100).",
      resolve: (d, _args, ctx) => ctx.services.datasets.listVersions(d._id),
    }),
    uploads: t.field({
      type: [UploadJobRef],
      description: "Recent uploads, newest first, running ones included: poll them for progress.",
      args: { first: t.arg.int({ required: false, defaultValue: 20 }) },
      resolve: (d, { first }, ctx) => ctx.services.datasets.listUploadJobs(d._id, Math.max(1, Math.min(100, first ?? 20))),
    }),
  }),
});
