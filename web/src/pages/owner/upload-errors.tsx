/** Why a file was refused: each error with its row, line, column and rule (never a value from the file). */
import { useI18n } from "../../i18n/index.ts";
import type { UploadFailure } from "./upload-request.ts";

export function UploadErrors({ failure }: { failure: UploadFailure }) {
  const { t } = useI18n();
  const rows = failure.rule
    ? [{ row: failure.row, line: failure.line, column: failure.column, rule: failure.rule, message: failure.message }]
    : (failure.issues ?? []).map((i) => ({ row: null, line: null, column: i.path, rule: failure.code, message: i.message }));
  return (
    <div role="alert" data-testid="upload-errors">
      <p className="error">{t("uploadRefused")}</p>
      {rows.length === 0 ? (
        <p className="error">{failure.message}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("row")}</th>
              <th scope="col">{t("line")}</th>
              <th scope="col">{t("column")}</th>
              <th scope="col">{t("rule")}</th>
              <th scope="col">{t("message")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} data-testid="upload-error">
                <td data-testid="upload-error-row">{r.row ?? "—"}</td>
                <td>{r.line ?? "—"}</td>
                <td data-testid="upload-error-column">{r.column ?? "—"}</td>
                <td data-testid="upload-error-rule">
                  <code>{r.rule}</code>
                </td>
                <td>{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
