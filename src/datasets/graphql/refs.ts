/** The module's object refs, declared apart from their fields so the types can refer to each other. */
import { builder } from "../../graphql/builder.ts";
import type { Stored } from "../../store/port.ts";
import type { ColumnChunks, ColumnSchema, Dataset, DatasetVersion, UploadErrorInfo, UploadJob } from "../model.ts";

export const DatasetRef = builder.objectRef<Stored<Dataset>>("Dataset");
export const DatasetVersionRef = builder.objectRef<Stored<DatasetVersion>>("DatasetVersion");
export const UploadJobRef = builder.objectRef<Stored<UploadJob>>("UploadJob");
export const DatasetColumnRef = builder.objectRef<ColumnSchema & { chunks: ColumnChunks }>("DatasetColumn");
export const UploadErrorRef = builder.objectRef<UploadErrorInfo>("UploadError");
