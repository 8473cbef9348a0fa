/**
 * Static cost of a GraphQL operation, computed before it runs, so expensive requests are refused
 * up front and rate limits charge what a request may do, not what it happened to do.
 *   every field costs 1;
 *   a connection (a field with a `first` argument) multiplies its selection by `first`
 *   (default 20, as the resolvers page), and its own `edges`/`nodes` lists are not
 *   multiplied again;
 *   any other list multiplies its selection by LIST_FACTOR;
 *   a mutation's root field costs MUTATION_WORK (the work it does), and its payload is what it
 *   already produced in memory, so lists and connections inside it are not multiplied.
 * Fragments are expanded; inline fragments on different types are summed (an upper bound).
 */
import {
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

export const DEFAULT_PAGE = 20;
export const LIST_FACTOR = 10;
export const MUTATION_WORK = 10;

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> = {},
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    if (def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName)) operation ??= def;
  }
  if (!operation) return 0;
  const root =
    operation.operation === "mutation"
      ? schema.getMutationType()
      : operation.operation === "subscription"
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  if (!root) return 0;

  const argValue = (node: ValueNode | undefined): unknown => {
    if (!node) return undefined;
    if (node.kind === Kind.VARIABLE) return variables[node.name.value];
    if (node.kind === Kind.INT) return Number(node.value);
    return undefined;
  };

  const isMutation = operation.operation === "mutation";
  const selectionCost = (set: SelectionSetNode, type: GraphQLNamedType, seen: Set<string>, inConnection = false, inPayload = false): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments.get(sel.name.value);
        if (!frag || seen.has(frag.name.value)) continue; // cycles are rejected by validation anyway
        const fragType = schema.getType(frag.typeCondition.name.value) ?? type;
        total += selectionCost(frag.selectionSet, fragType, new Set([...seen, frag.name.value]), inConnection, inPayload);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const fragType = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) ?? type) : type;
        total += selectionCost(sel.selectionSet, fragType, seen, inConnection, inPayload);
      } else {
        if (sel.name.value.startsWith("__")) continue; // __typename is free
        const field: GraphQLField<unknown, unknown> | undefined =
          isObjectType(type) || isInterfaceType(type) ? type.getFields()[sel.name.value] : undefined;
        const isRootMutation = isMutation && type === root;
        total += isRootMutation ? MUTATION_WORK : 1;
        if (!field || !sel.selectionSet) continue;
        const hasFirst = field.args.some((a) => a.name === "first");
        const payload = inPayload || isRootMutation;
        const child = selectionCost(sel.selectionSet, getNamedType(field.type), seen, hasFirst, payload);
        let factor = 1;
        if (payload) {
          factor = 1;
        } else if (inConnection && (field.name === "edges" || field.name === "nodes")) {
          factor = 1;
        } else if (hasFirst) {
          const first = argValue(sel.arguments?.find((a) => a.name.value === "first")?.value);
          factor = typeof first === "number" && first > 0 ? first : DEFAULT_PAGE;
        } else if (isListType(getNullableType(field.type))) {
          factor = LIST_FACTOR;
        }
        total += factor * child;
      }
    }
    return total;
  };

  return selectionCost(operation.selectionSet, root, new Set());
}
