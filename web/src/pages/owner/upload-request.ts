/**
 * The streaming upload (`PUT /datasets/{id}/versions`) from the browser: XMLHttpRequest, because
 * fetch cannot report upload progress. Resolves with the route's JSON body either way; a refused
 * file comes back as {error:{code, message, rule, line, row, column}, uploadJobId}.
 */
export interface UploadFailure {
  code: string;
  message: string;
  rule?: string;
  line?: number | null;
  row?: number | null;
  column?: string | null;
  issues?: Array<{ path: string; message: string }>;
}

export type UploadResponse =
  | { ok: true; uploadJobId: string; version: { number: number; rowCount: number } }
  | { ok: false; uploadJobId: string | null; error: UploadFailure };

export function putDatasetFile(
  datasetId: string,
  file: File,
  token: string,
  onBytesSent: (sent: number, total: number) => void,
): Promise<UploadResponse> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const params = new URLSearchParams({ filename: file.name });
    xhr.open("PUT", `/datasets/${encodeURIComponent(datasetId)}/versions?${params}`);
    xhr.setRequestHeader("authorization", `Bearer ${token}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onBytesSent(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const jobId = typeof body.uploadJobId === "string" ? body.uploadJobId : (xhr.getResponseHeader("x-upload-job") ?? null);
      if (xhr.status === 201 && jobId) {
        resolve({ ok: true, uploadJobId: jobId, version: body.version as { number: number; rowCount: number } });
      } else {
        const error = (body.error as UploadFailure | undefined) ?? { code: `HTTP_${xhr.status}`, message: xhr.statusText || "upload failed" };
        resolve({ ok: false, uploadJobId: jobId, error });
      }
    };
    xhr.onerror = () => resolve({ ok: false, uploadJobId: null, error: { code: "NETWORK", message: "the connection failed" } });
    xhr.send(file);
  });
}
