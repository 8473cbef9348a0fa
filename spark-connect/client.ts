/**
 * A small Spark Connect client: run one SQL statement with typed named arguments and read its
 * result as columns. What it does:
 *   - ExecutePlan with a SQL root relation, reattachable: when the stream ends before
 *     ResultComplete (a proxy or the network cut it), ReattachExecute resumes after the last
 *     response received; ReleaseExecute frees the server's buffers once the result is read;
 *   - a deadline per statement: when it passes, Interrupt stops the operation on the engine and
 *     the call fails with TIMEOUT; an AbortSignal does the same on demand;
 *   - errors mapped to a closed set (errors.ts) whose messages quote no data.
 * What it leaves out: DataFrame plans other than SQL, commands, streaming, artifacts, result
 * chunking, sessions shared between clients.
 */
import { randomUUID } from "node:crypto";
import { namedArguments, type SqlArgument } from "./arguments.ts";
import { appendArrowBatch, type SparkResult } from "./arrow.ts";
import { SparkConnectError, fromGrpcError } from "./errors.ts";
import { grpc, sparkConnectService, type ExecutePlanResponse, type SparkConnectStub } from "./protocol.ts";
import { parseSparkConnectUrl, type SparkConnectUrl } from "./url.ts";

export interface SqlOptions {
  /** Milliseconds from the call after which the statement is interrupted (TIMEOUT). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** How many times one statement may be reattached after its stream ends early. */
const MAX_REATTACH = 3;
const CLIENT_TYPE = "data-exchange-spark-connect/1";

export class SparkConnectClient {
  readonly url: SparkConnectUrl;
  readonly sessionId: string;
  private readonly stub: SparkConnectStub;
  private readonly metadata: grpc.Metadata;
  private closed = false;

  constructor(connectionString: string) {
    this.url = parseSparkConnectUrl(connectionString);
    this.sessionId = this.url.sessionId ?? randomUUID();
    this.metadata = new grpc.Metadata();
    let credentials = this.url.useSsl ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    if (this.url.token !== null) {
      const token = this.url.token;
      credentials = grpc.credentials.combineChannelCredentials(
        credentials,
        grpc.credentials.createFromMetadataGenerator((_p, cb) => {
          const m = new grpc.Metadata();
          m.set("authorization", `Bearer ${token}`);
          cb(null, m);
        }),
      );
    }
    const Service = sparkConnectService();
    // Results of a few thousand groups stay far below this; it bounds what one message may cost us.
    this.stub = new Service(`${this.url.host.includes(":") ? `[${this.url.host}]` : this.url.host}:${this.url.port}`, credentials, {
      "grpc.max_receive_message_length": 128 * 1024 * 1024,
    });
  }

  private base(): Record<string, unknown> {
    return { session_id: this.sessionId, user_context: { user_id: this.url.userId }, client_type: CLIENT_TYPE };
  }

  /** Runs one SQL statement; `:name` in the text is the named argument `name`. */
  async sql(query: string, args: Record<string, SqlArgument> = {}, options: SqlOptions = {}): Promise<SparkResult> {
    if (this.closed) throw new SparkConnectError("ENGINE_UNREACHABLE", "this Spark Connect client is closed");
    const operationId = randomUUID();
    const request = {
      ...this.base(),
      operation_id: operationId,
      plan: { root: { sql: { query, named_arguments: namedArguments(args) } } },
      request_options: [{ reattach_options: { reattachable: true } }],
    };
    const result: SparkResult = { columns: [], rowCount: 0 };
    let lastResponseId: string | null = null;
    let complete = false;
    let current: grpc.ClientReadableStream<ExecutePlanResponse> | null = null;
    let stopped: SparkConnectError | null = null;

    const stop = (why: SparkConnectError) => {
      if (stopped) return;
      stopped = why;
      current?.cancel();
      // Stop the work on the engine too; a failure here changes nothing for the caller.
      this.stub.interrupt(
        { ...this.base(), interrupt_type: "INTERRUPT_TYPE_OPERATION_ID", operation_id: operationId },
        this.metadata,
        { deadline: Date.now() + 5_000 },
        () => {},
      );
    };
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => stop(new SparkConnectError("TIMEOUT", `the Spark query did not finish within ${options.timeoutMs} ms; it was interrupted`)), options.timeoutMs)
        : null;
    const onAbort = () => stop(new SparkConnectError("TIMEOUT", "the Spark query was cancelled by its caller; it was interrupted"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    // One stream (the first execution or a reattachment) read to its end.
    const drain = (stream: grpc.ClientReadableStream<ExecutePlanResponse>) =>
      new Promise<void>((resolve, reject) => {
        current = stream;
        stream.on("data", (r: ExecutePlanResponse) => {
          try {
            if (r.response_id) lastResponseId = r.response_id;
            if (r.response_type === "arrow_batch" && r.arrow_batch) appendArrowBatch(result, r.arrow_batch.data);
            else if (r.response_type === "result_complete") complete = true;
          } catch (e) {
            stream.cancel();
            reject(e);
          }
        });
        stream.on("error", (e) => reject(e));
        stream.on("end", () => resolve());
      });

    try {
      let attempt = 0;
      let stream = this.stub.executePlan(request, this.metadata, {});
      for (;;) {
        try {
          await drain(stream);
        } catch (e) {
          if (stopped) throw stopped;
          // A transport failure after the operation started: reattach; anything else: fail.
          const code = (e as { code?: number }).code;
          if (!(code === grpc.status.UNAVAILABLE && lastResponseId !== null && attempt < MAX_REATTACH)) throw fromGrpcError(e, "executing");
        }
        if (stopped) throw stopped;
        if (complete) break;
        if (++attempt > MAX_REATTACH) throw new SparkConnectError("ENGINE_UNREACHABLE", "the Spark query's result stream kept ending early");
        stream = this.stub.reattachExecute(
          { ...this.base(), operation_id: operationId, ...(lastResponseId ? { last_response_id: lastResponseId } : {}) },
          this.metadata,
          {},
        );
      }
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (!stopped) this.stub.releaseExecute({ ...this.base(), operation_id: operationId, release_all: {} }, this.metadata, { deadline: Date.now() + 5_000 }, () => {});
    }
  }

  /** Ends the server session and the channel. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) =>
      this.stub.releaseSession({ ...this.base(), allow_reconnect: false }, this.metadata, { deadline: Date.now() + 2_000 }, () => resolve()),
    );
    this.stub.close();
  }
}
