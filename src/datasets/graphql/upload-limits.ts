/**
 * A yoga plugin that bounds multipart requests. graphql-yoga's multipart parser (busboy via
 * @whatwg-node) holds uploaded files in memory and has no size limit of its own, so without
 * this a large multipart POST to /graphql could exhaust memory before any resolver runs.
 * Files over the cap are refused with 413; larger files go through the streaming
 * `PUT /datasets/{id}/versions`. (UPLOAD_MAX_BYTES is checked again by the upload itself.)
 */
import type { Plugin } from "graphql-yoga";

/** The most a GraphQL multipart upload may carry (it is buffered in memory). */
export const GRAPHQL_UPLOAD_MAX_BYTES = 128 * 1024 * 1024;

type FormDataLimits = { fileSize?: number; files?: number; fieldSize?: number; parts?: number };
type LimitedRequest = Request & { formData(opts?: { formDataLimits?: FormDataLimits }): Promise<FormData> };

export function useUploadLimits(maxFileBytes = GRAPHQL_UPLOAD_MAX_BYTES): Plugin {
  const limits: FormDataLimits = { fileSize: maxFileBytes, files: 4, fieldSize: 1024 * 1024, parts: 16 };
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser || request.method !== "POST" || !(request.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data"))
        return;
      const parse = requestParser;
      setRequestParser((req) => {
        const target = req as LimitedRequest;
        const limited = new Proxy(target, {
          get(t, prop) {
            if (prop === "formData") {
              return (opts?: { formDataLimits?: FormDataLimits }) =>
                t.formData({ ...opts, formDataLimits: { ...opts?.formDataLimits, ...limits } }).catch((e: unknown) => {
                  if (e instanceof Error && e.message.startsWith("File size limit exceeded: ")) {
                    throw new Error(
                      `File size limit exceeded: ${maxFileBytes} bytes is the most a GraphQL upload may carry; stream larger files with PUT /datasets/{id}/versions`,
                    );
                  }
                  throw e;
                });
            }
            const v: unknown = Reflect.get(t, prop, t);
            return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
          },
        });
        return parse(limited);
      });
    },
  };
}
