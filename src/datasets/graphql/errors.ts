import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface, errorType } from "../../graphql/error-types.ts";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { DatasetNameTaken, UploadRejected } from "../errors.ts";

errorType(DatasetNameTaken, "DatasetNameTaken", "You already have a dataset with this name.");

builder.objectType(UploadRejected, {
  name: "UploadRejected",
  description: "The file was refused and nothing of it was kept: `rule` says why, `line`/`row`/`column` where. Never quotes a value from the file.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof UploadRejected,
  fields: (t) => ({
    rule: t.exposeString("rule", {
      description:
        "empty_file, no_rows, too_large, unknown_format, invalid_utf8, bad_quoting, ragged_row, record_too_large, bad_header, too_many_columns, unknown_declared_column, type_mismatch, value_out_of_range, too_many_distinct_values, bad_json, not_an_object, nested_value, unsupported_parquet, bad_parquet, upload_aborted",
    }),
    line: t.exposeInt("line", { nullable: true, description: "Physical line of the file (1-based; the CSV header is line 1)." }),
    row: t.exposeInt("row", { nullable: true, description: "Data row (1-based, header not counted)." }),
    column: t.exposeString("column", { nullable: true }),
    uploadJobId: t.id({
      nullable: true,
      description: "The failed upload job (for `uploadJob(id)`), when one was started.",
      resolve: (e) => (e.jobId ? encodeGlobalID("UploadJob", e.jobId) : null),
    }),
  }),
});
