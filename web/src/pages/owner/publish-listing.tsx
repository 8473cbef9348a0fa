/**
 * Owner: list a dataset version for sale — bilingual title and description, category, licence,
 * permitted use, tags and the price plan (fee per query, per ε, per million rows, free queries) —
 * then publish it. Issues the API finds are shown next to their field.
 */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { domainMessage } from "../../format.ts";
import { ErrorLine } from "../../components/status.tsx";
import { FieldError, invalidProps } from "./field-error.tsx";
import type { FieldProblem } from "./policy-draft.ts";

const CreateListing = graphql(`
  mutation CreateListing($input: CreateListingInput!) {
    createListing(input: $input) {
      __typename
      ... on MutationCreateListingSuccess { data { id } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }
`);

export const PublishListingMutation = graphql(`
  mutation PublishListing($id: ID!) {
    publishListing(id: $id) {
      __typename
      ... on MutationPublishListingSuccess { data { id status } }
      ... on DomainError { code message }
    }
  }
`);

const CATEGORIES = ["TRANSPORT", "ENVIRONMENT", "ENERGY", "FINANCE", "GOVERNMENT", "HEALTH", "RETAIL", "OTHER"] as const;
type Category = (typeof CATEGORIES)[number];
const PRICE_FIELDS = ["perQueryFee", "pricePerEpsilon", "pricePerMillionRows"] as const;

/** `input.pricePlan.freeTier.queries` → the form field it belongs to. */
function fieldOf(path: string): string {
  const p = path.replace(/^input\./, "").split(".");
  if (p[0] === "title" || p[0] === "description") return `${p[0]}${p[1] === "en" ? "En" : "Zh"}`;
  if (p[0] === "pricePlan") return p[1] === "freeTier" ? "freeQueries" : (p[1] ?? "perQueryFee");
  return p[0] ?? "form";
}

export function PublishListing({ datasetId, onPublished }: { datasetId: string; onPublished: () => void }) {
  const { t } = useI18n();
  const client = useClient();
  const [problems, setProblems] = useState<Record<string, FieldProblem>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    const n = (k: string) => (s(k) === "" ? 0 : Number(s(k)));
    setBusy(true);
    setError(null);
    setProblems({});
    setDone(false);
    try {
      const freeQueries = n("freeQueries");
      const { createListing: r } = await client(CreateListing, {
        input: {
          datasetId,
          title: { zh: s("titleZh"), en: s("titleEn") },
          description: { zh: s("descriptionZh"), en: s("descriptionEn") },
          category: s("category") as Category,
          licence: s("licence"),
          permittedUse: s("permittedUse"),
          tags: s("tags")
            .split(/[,，]/)
            .map((x) => x.trim())
            .filter(Boolean),
          instantAccess: f.get("instantAccess") === "on",
          pricePlan: {
            perQueryFee: n("perQueryFee"),
            pricePerEpsilon: n("pricePerEpsilon"),
            pricePerMillionRows: n("pricePerMillionRows"),
            ...(freeQueries > 0 ? { freeTier: { queries: freeQueries } } : {}),
          },
        },
      });
      if (r.__typename === "InvalidInput") {
        const byField: Record<string, FieldProblem> = {};
        for (const i of r.issues) byField[fieldOf(i.path)] ??= { text: i.message };
        setProblems(byField);
        return;
      }
      if (r.__typename !== "MutationCreateListingSuccess") return setError(domainMessage(r));
      const { publishListing: p } = await client(PublishListingMutation, { id: r.data.id });
      if (p.__typename !== "MutationPublishListingSuccess") setError(domainMessage(p));
      else {
        setDone(true);
        form.reset();
      }
      onPublished();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const text = (name: string, label: string, props: { required?: boolean; textarea?: boolean } = {}) => (
    <div>
      <label htmlFor={`listing-${name}`}>{label}</label>
      {props.textarea ? (
        <textarea id={`listing-${name}`} name={name} rows={2} required={props.required} {...invalidProps(name, problems[name])} />
      ) : (
        <input id={`listing-${name}`} name={name} required={props.required} {...invalidProps(name, problems[name])} />
      )}
      <FieldError field={name} problem={problems[name]} />
    </div>
  );
  const money = (name: string, label: string, value = "0") => (
    <div>
      <label htmlFor={`listing-${name}`}>{label}</label>
      <input id={`listing-${name}`} name={name} type="number" min="0" step="1" defaultValue={value} {...invalidProps(name, problems[name])} />
      <FieldError field={name} problem={problems[name]} />
    </div>
  );
  return (
    <section aria-labelledby="publish-title">
      <h2 id="publish-title">{t("publish")}</h2>
      <form onSubmit={submit} aria-label={t("publish")}>
        <div className="grid">
          {text("titleZh", t("titleZh"))}
          {text("titleEn", t("titleEn"))}
        </div>
        <div className="grid">
          {text("descriptionZh", t("descriptionZh"), { textarea: true })}
          {text("descriptionEn", t("descriptionEn"), { textarea: true })}
        </div>
        <label>
          {t("category")}
          <select name="category" defaultValue="OTHER">
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        {text("licence", t("licence"), { required: true })}
        {text("permittedUse", t("permittedUse"), { required: true, textarea: true })}
        {text("tags", t("tags"))}
        <fieldset>
          <legend>{t("pricePlan")}</legend>
          <div className="grid">
            {money(PRICE_FIELDS[0], t("perQueryFee"))}
            {money(PRICE_FIELDS[1], t("pricePerEpsilon"))}
          </div>
          <div className="grid">
            {money(PRICE_FIELDS[2], t("pricePerMillionRows"))}
            {money("freeQueries", t("freeQueries"))}
          </div>
        </fieldset>
        <label>
          <input type="checkbox" name="instantAccess" />
          {t("instantAccess")}
        </label>
        <ErrorLine message={error} />
        {done && (
          <p className="ok" role="status" data-testid="listing-published">
            {t("published")}
          </p>
        )}
        <button type="submit" aria-busy={busy}>
          {t("publishButton")}
        </button>
      </form>
    </section>
  );
}
