/** createDataset, and uploadDatasetVersion (a GraphQL multipart upload, for files that fit in memory). */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { DatasetNameTaken, UploadRejected } from "../errors.ts";
import { ColumnTypeEnum, DatasetFormatEnum } from "./enums.ts";
import { DatasetRef, DatasetVersionRef } from "./refs.ts";

const CreateDatasetInput = builder.inputType("CreateDatasetInput", {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Unique among your datasets, e.g. "出租车行程 2024".' }),
    description: t.string({ required: false }),
  }),
});

builder.mutationField("createDataset", (t) =>
  t.field({
    type: DatasetRef,
    description: "Creates an empty dataset; upload files to it to make versions.",
    authScopes: { owner: true },
    errors: { types: [InvalidInput, DatasetNameTaken] },
    args: { input: t.arg({ type: CreateDatasetInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.datasets.createDataset(ctx.principal!.account._id, input),
  }),
);

const ColumnTypeDeclaration = builder.inputType("ColumnTypeDeclaration", {
  description: "Overrides type inference for one column: every value must then fit this type.",
  fields: (t) => ({
    name: t.string({ required: true }),
    type: t.field({ type: ColumnTypeEnum, required: true }),
  }),
});

const UploadDatasetVersionInput = builder.inputType("UploadDatasetVersionInput", {
  fields: (t) => ({
    datasetId: t.globalID({ required: true }),
    // Required, but nullable in the schema: a file can only arrive in a multipart request, and a
    // plain JSON call must still reach the authorization check (and get InvalidInput).
    file: t.field({ type: "File", required: false, description: "Required: the file, sent as a multipart upload." }),
    format: t.field({ type: DatasetFormatEnum, required: false, description: "Detected from the file when left out." }),
    delimiter: t.string({ required: false, description: 'CSV field delimiter: one character, default "," ("\\t" for tabs).' }),
    columnTypes: t.field({ type: [ColumnTypeDeclaration], required: false, description: "Declared types; other columns are inferred." }),
  }),
});

builder.mutationField("uploadDatasetVersion", (t) =>
  t.field({
    type: DatasetVersionRef,
    description:
      "Uploads a file (multipart request) and converts it into a new version of your dataset. The multipart parser holds the file in memory: for large files use the streaming `PUT /datasets/{id}/versions`. Follow progress with `dataset { uploads }` or `uploadJob`.",
    authScopes: { owner: true },
    errors: { types: [UploadRejected, InvalidInput, NotFound] },
    args: { input: t.arg({ type: UploadDatasetVersionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (input.datasetId.typename !== "Dataset") throw new NotFound("dataset");
      const datasetId = input.datasetId.id;
      const file = input.file;
      if (!file)
        throw new InvalidInput([
          { path: "input.file", message: "is required: send the file in a multipart request (GraphQL multipart request spec)" },
        ]);
      const { version } = await ctx.services.datasets.uploadVersion(ctx.principal!.account._id, datasetId, {
        source: file.stream() as unknown as AsyncIterable<Uint8Array>,
        filename: file.name ?? null,
        bytesTotal: file.size,
        format: input.format ?? null,
        delimiter: input.delimiter ?? null,
        columnTypes: input.columnTypes ?? null,
      });
      return version;
    },
  }),
);
