import { builder } from "../../graphql/builder.ts";

export const ColumnTypeEnum = builder.enumType("ColumnType", {
  description: "A column's type. Dates are calendar days, timestamps instants (UTC); strings are dictionary-encoded.",
  values: {
    INT: { value: "int" },
    FLOAT: { value: "float" },
    BOOLEAN: { value: "boolean" },
    DATE: { value: "date" },
    TIMESTAMP: { value: "timestamp" },
    STRING: { value: "string" },
  } as const,
});

export const DatasetFormatEnum = builder.enumType("DatasetFormat", {
  description: "An upload's file format. CSV needs a header row; NDJSON is one JSON object per line.",
  values: { CSV: { value: "csv" }, NDJSON: { value: "ndjson" }, PARQUET: { value: "parquet" } } as const,
});

export const UploadStateEnum = builder.enumType("UploadState", {
  values: { RUNNING: { value: "running" }, SUCCEEDED: { value: "succeeded" }, FAILED: { value: "failed" } } as const,
});
