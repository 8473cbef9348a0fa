/**
 * The Spark Connect service, from the .proto files pinned in protos/ (copied unchanged from the
 * spark-connect jar of the Spark release named in protos/SPARK_VERSION). Loaded at run time by
 * proto-loader, so no generated code is checked in; int64 fields travel as decimal strings.
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTOS = join(import.meta.dirname, "protos");

/** The messages this client reads, as proto-loader decodes them (keepCase, oneofs named). */
export interface ExecutePlanResponse {
  session_id: string;
  server_side_session_id: string;
  operation_id: string;
  response_id: string;
  response_type?: string;
  arrow_batch?: { row_count: string; data: Buffer; start_offset?: string };
  result_complete?: object;
}

type Unary<Req> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void;
type Stream<Req> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<ExecutePlanResponse>;

export interface SparkConnectStub extends grpc.Client {
  executePlan: Stream<object>;
  reattachExecute: Stream<object>;
  releaseExecute: Unary<object>;
  interrupt: Unary<object>;
  releaseSession: Unary<object>;
}

let service: (new (address: string, credentials: grpc.ChannelCredentials, options?: object) => SparkConnectStub) | null = null;

/** The service's client constructor (loaded once per process). */
export function sparkConnectService(): NonNullable<typeof service> {
  if (service) return service;
  const definition = protoLoader.loadSync(join(PROTOS, "spark/connect/base.proto"), {
    includeDirs: [PROTOS],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { spark: { connect: { SparkConnectService: NonNullable<typeof service> } } };
  service = loaded.spark.connect.SparkConnectService;
  return service;
}

export { grpc };
