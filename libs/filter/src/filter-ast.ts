/**
 * The syntax tree of a parsed filter. The parser builds it, the compiler turns
 * it into a predicate; nothing evaluates the tree directly.
 */

/** `attributes.KEY = "value"`: the attribute is present and equal to `value`. */
export interface EqualsNode {
  readonly kind: 'equals';
  readonly key: string;
  readonly value: string;
}

/** `attributes.KEY != "value"`: the attribute is absent or differs from `value`. */
export interface NotEqualsNode {
  readonly kind: 'notEquals';
  readonly key: string;
  readonly value: string;
}

/** `attributes:KEY`: the attribute is present, whatever its value. */
export interface HasKeyNode {
  readonly kind: 'hasKey';
  readonly key: string;
}

/** `hasPrefix(attributes.KEY, "prefix")`: the attribute is present and starts with `prefix`. */
export interface HasPrefixNode {
  readonly kind: 'hasPrefix';
  readonly key: string;
  readonly prefix: string;
}

/** `NOT expr` or `-expr`. */
export interface NotNode {
  readonly kind: 'not';
  readonly operand: FilterNode;
}

/** `a AND b AND ...`: two or more operands, all of which must match. */
export interface AndNode {
  readonly kind: 'and';
  readonly operands: readonly FilterNode[];
}

/** `a OR b OR ...`: two or more operands, at least one of which must match. */
export interface OrNode {
  readonly kind: 'or';
  readonly operands: readonly FilterNode[];
}

/** Any node of a filter's syntax tree. */
export type FilterNode = EqualsNode | NotEqualsNode | HasKeyNode | HasPrefixNode | NotNode | AndNode | OrNode;
