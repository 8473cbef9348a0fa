/** The public face of src/datasets: other modules import from here only. */
export type { DatasetVersion, ColumnSchema, DatasetSchema, ColumnType, Dataset } from "./model.ts";
export { COLUMN_TYPES } from "./model.ts";
export { isNull, dateText } from "./chunk-format.ts";

export { DatasetsService } from "./service.ts";
import type { DatasetsService as DatasetsServiceType } from "./service.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    datasets: DatasetsServiceType;
  }
}
