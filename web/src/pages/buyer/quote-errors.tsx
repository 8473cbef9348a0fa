/**
 * The quote's expected error per aggregate (QuotedError): the noise's standard deviation, the
 * bias that bounding contributions is expected to cause, and the 95% range of the relative error
 * (released − true) / true, which reaches further below zero because bounding biases low.
 */
import { useI18n } from "../../i18n/index.ts";
import { num, percent } from "../../format.ts";

interface QuotedError {
  aggregateIndex: number;
  kind: string;
  column: string | null;
  noiseStdDev: number | null;
  expectedRelBias: number | null;
  expectedRelNoise: number | null;
  relErrorInterval: { lo: number; hi: number } | null;
}

export function QuoteErrors({ errors }: { errors: readonly QuotedError[] }) {
  const { t, lang } = useI18n();
  if (errors.length === 0) return null;
  const dash = "—";
  const noProfile = errors.some((e) => e.expectedRelBias == null);
  return (
    <table data-testid="quote-errors">
      <caption>{t("expectedErrors")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("aggregate")}</th>
          <th scope="col">{t("noiseStdDev")}</th>
          <th scope="col">{t("expectedBias")}</th>
          <th scope="col">{t("expectedRelNoise")}</th>
          <th scope="col">{t("interval95")}</th>
        </tr>
      </thead>
      <tbody>
        {errors.map((e) => (
          <tr key={e.aggregateIndex} data-testid="quote-aggregate-error">
            <th scope="row">{e.column ? `${e.kind}(${e.column})` : e.kind}</th>
            <td>{e.noiseStdDev == null ? dash : `± ${num(e.noiseStdDev, lang)}`}</td>
            <td data-testid="quote-bias">{e.expectedRelBias == null ? t("unknown") : percent(e.expectedRelBias, lang)}</td>
            <td>{e.expectedRelNoise == null ? dash : percent(e.expectedRelNoise, lang)}</td>
            <td data-testid="quote-interval">
              {e.relErrorInterval ? `[${percent(e.relErrorInterval.lo, lang, true)}, ${percent(e.relErrorInterval.hi, lang, true)}]` : t("unknown")}
            </td>
          </tr>
        ))}
      </tbody>
      {noProfile && (
        <tfoot>
          <tr>
            <td colSpan={5}>
              <small data-testid="quote-no-profile">{t("noErrorProfile")}</small>
            </td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}
