/** The `File` scalar of graphql-yoga's multipart uploads: an input-only WHATWG File. */
import { GraphQLError } from "graphql";
import { builder } from "../../graphql/builder.ts";

builder.scalarType("File", {
  description:
    "A file sent as a multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec). Held in memory by the server while it is read; upload large files with `PUT /datasets/{id}/versions` instead.",
  serialize: () => {
    throw new GraphQLError("File is an input-only scalar");
  },
  parseValue: (value) => {
    const f = value as Partial<File> | null;
    if (f === null || typeof f !== "object" || typeof f.stream !== "function" || typeof f.size !== "number") {
      throw new GraphQLError("File must be sent as a multipart upload");
    }
    return value as File;
  },
});
