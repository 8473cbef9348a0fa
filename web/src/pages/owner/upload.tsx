/**
 * Owner: upload a file (CSV, NDJSON, Parquet) to a dataset by drag and drop or the file picker.
 * The bar shows bytes sent, then the server's own progress (bytes read, rows converted, phase) by
 * polling the dataset's uploads; a refused file shows where (row, line, column) and which rule.
 */
import { useEffect, useRef, useState, type DragEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient, useSession } from "../../session.ts";
import { num } from "../../format.ts";
import { putDatasetFile, type UploadFailure } from "./upload-request.ts";
import { UploadErrors } from "./upload-errors.tsx";

const UploadsQuery = graphql(`
  query OwnerUploads($id: ID!) {
    dataset(id: $id) {
      __typename
      ... on QueryDatasetSuccess { data { uploads(first: 5) { id state phase rowsDone bytesDone bytesTotal } } }
    }
  }
`);

const JobQuery = graphql(`
  query OwnerUploadJob($id: ID!) {
    uploadJob(id: $id) {
      __typename
      ... on QueryUploadJobSuccess { data { id state phase rowsDone bytesDone bytesTotal version { number rowCount } } }
    }
  }
`);

interface Progress {
  fileName: string;
  bytesTotal: number;
  bytesDone: number;
  rowsDone: number;
  phase: string;
  state: "RUNNING" | "SUCCEEDED" | "FAILED";
  version: number | null;
}

export function Upload({ datasetId, onUploaded }: { datasetId: string; onUploaded: () => void }) {
  const { t, lang } = useI18n();
  const client = useClient();
  const { session } = useSession();
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [failure, setFailure] = useState<UploadFailure | null>(null);
  const poll = useRef<ReturnType<typeof setInterval> | null>(null);
  useEffect(() => () => void (poll.current && clearInterval(poll.current)), []);

  const start = async (file: File) => {
    if (progress?.state === "RUNNING") return;
    setFailure(null);
    setProgress({ fileName: file.name, bytesTotal: file.size, bytesDone: 0, rowsDone: 0, phase: "receiving", state: "RUNNING", version: null });
    const before = await client(UploadsQuery, { id: datasetId });
    const known = new Set(before.dataset.__typename === "QueryDatasetSuccess" ? before.dataset.data.uploads.map((u) => u.id) : []);
    poll.current = setInterval(() => {
      void client(UploadsQuery, { id: datasetId }).then((r) => {
        const job = r.dataset.__typename === "QueryDatasetSuccess" ? r.dataset.data.uploads.find((u) => !known.has(u.id)) : undefined;
        if (job && job.state === "RUNNING")
          setProgress((p) =>
            p?.state === "RUNNING" ? { ...p, bytesDone: Math.max(p.bytesDone, job.bytesDone), rowsDone: job.rowsDone, phase: job.phase } : p,
          );
      });
    }, 400);
    const res = await putDatasetFile(datasetId, file, session?.token ?? "", (sent, total) =>
      setProgress((p) => (p?.state === "RUNNING" ? { ...p, bytesDone: Math.max(p.bytesDone, sent), bytesTotal: total } : p)),
    );
    if (poll.current) clearInterval(poll.current);
    poll.current = null;
    const final = res.uploadJobId ? await client(JobQuery, { id: res.uploadJobId }).catch(() => null) : null;
    const job = final?.uploadJob.__typename === "QueryUploadJobSuccess" ? final.uploadJob.data : null;
    setProgress((p) => ({
      fileName: p?.fileName ?? file.name,
      bytesTotal: job?.bytesTotal ?? file.size,
      bytesDone: Math.max(job?.bytesDone ?? 0, p?.bytesDone ?? 0),
      rowsDone: res.ok ? res.version.rowCount : (job?.rowsDone ?? p?.rowsDone ?? 0),
      phase: res.ok ? (job?.phase ?? "done") : "failed",
      state: res.ok ? "SUCCEEDED" : "FAILED",
      version: res.ok ? res.version.number : null,
    }));
    if (res.ok) onUploaded();
    else setFailure(res.error);
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) void start(file);
  };
  const busy = progress?.state === "RUNNING";
  return (
    <section aria-labelledby="upload-title">
      <h2 id="upload-title">{t("upload")}</h2>
      <div
        className={over ? "drop over" : "drop"}
        data-testid="drop-zone"
        onDragOver={(e) => (e.preventDefault(), setOver(true))}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>{t("dropHere")}</p>
        <label>
          {t("chooseFile")}
          <input
            type="file"
            name="file"
            accept=".csv,.tsv,.ndjson,.jsonl,.json,.parquet,text/csv,application/x-ndjson"
            disabled={busy}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              e.currentTarget.value = "";
              if (file) void start(file);
            }}
          />
        </label>
      </div>
      {progress && (
        <div data-testid="upload-progress" aria-live="polite">
          <progress
            value={progress.state === "SUCCEEDED" ? progress.bytesTotal : progress.bytesDone}
            max={Math.max(1, progress.bytesTotal)}
            aria-label={t("uploadProgress", { file: progress.fileName })}
            aria-busy={busy}
          />
          <p>
            <span data-testid="upload-bytes">
              {t("bytesOf", { done: num(progress.bytesDone, lang, 0), total: num(progress.bytesTotal, lang, 0) })}
            </span>
            {" · "}
            <span data-testid="upload-rows">{t("rowsDone", { rows: num(progress.rowsDone, lang, 0) })}</span>
            {" · "}
            <span data-testid="upload-phase">{t("uploadPhase", { phase: progress.phase })}</span>
          </p>
          {progress.state === "SUCCEEDED" && progress.version !== null && (
            <p className="ok" role="status" data-testid="upload-done">
              {t("uploadDone", { version: progress.version, rows: num(progress.rowsDone, lang, 0) })}
            </p>
          )}
        </div>
      )}
      {failure && <UploadErrors failure={failure} />}
    </section>
  );
}
