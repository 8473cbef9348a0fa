/** Loading and error lines, announced to screen readers. */
import { useI18n } from "../i18n/index.ts";

export function Loading() {
  const { t } = useI18n();
  return <p aria-busy="true">{t("loading")}</p>;
}

export function ErrorLine({ message }: { message: string | null }) {
  const { t } = useI18n();
  if (!message) return null;
  return (
    <p role="alert" className="error">
      {t("error", { message })}
    </p>
  );
}
