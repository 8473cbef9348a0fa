/** Registers the datasets module's GraphQL types and fields. */
import "./file-scalar.ts";
import "./errors.ts";
import "./enums.ts";
import "./dataset.ts";
import "./dataset-version.ts";
import "./upload-job.ts";
import "./queries.ts";
import "./mutations.ts";
export { ColumnTypeEnum } from "./enums.ts";
