/**
 * Sends one typed operation to the exchange's /graphql and returns its typed `data`. Runs in the
 * browser (the console) and in Node 24 (examples/): only `fetch` is needed.
 */
import { print } from "@0no-co/graphql.web";
import type { ResultOf, TadaDocumentNode, VariablesOf } from "gql.tada";

/** A GraphQL error answer (HTTP 4xx/5xx or `errors` in the body), with the first error's code. */
export class GraphQLRequestError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(message: string, code: string, status: number) {
    super(message);
    this.name = "GraphQLRequestError";
    this.code = code;
    this.status = status;
  }
}

export interface ClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:4000 ("" for same-origin in the browser). */
  baseUrl: string;
  /** A session token (dxs_…) or API key (dxk_…), sent as a bearer credential. */
  token?: string | null;
}

type AnyDocument = TadaDocumentNode<any, any, any>;

export async function request<D extends AnyDocument>(options: ClientOptions, document: D, variables?: VariablesOf<D>): Promise<ResultOf<D>> {
  const res = await fetch(`${options.baseUrl}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
  });
  const body = (await res.json().catch(() => null)) as {
    data?: ResultOf<D>;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  } | null;
  const first = body?.errors?.[0];
  if (first || !body?.data) {
    throw new GraphQLRequestError(first?.message ?? `HTTP ${res.status}`, first?.extensions?.code ?? "HTTP_ERROR", res.status);
  }
  return body.data;
}

/** A client bound to a base URL and credential. */
export function createClient(options: ClientOptions) {
  return <D extends AnyDocument>(document: D, variables?: VariablesOf<D>) => request(options, document, variables);
}
