import { type FilterNode } from './filter-ast';

/** Message attributes as a filter sees them. */
export type Attributes = Readonly<Record<string, string>>;

/** A compiled filter: true when a message's attributes match. */
export type AttributePredicate = (attributes: Attributes) => boolean;

/**
 * Turns a syntax tree into nested closures, once per subscription, so that the
 * per-message cost is a few property reads and calls: no tree walk, no
 * switch, no regular expression.
 */
export function compileFilter(node: FilterNode): AttributePredicate {
  switch (node.kind) {
    case 'equals': {
      const { key, value } = node;
      // An absent key reads as undefined (or an inherited non-string such as
      // `toString`), which never equals a string, so absence needs no own test.
      return (attributes) => attributes[key] === value;
    }
    case 'notEquals': {
      const { key, value } = node;
      // Pub/Sub semantics: `!=` also matches when the key is absent.
      return (attributes) => attributes[key] !== value;
    }
    case 'hasKey': {
      const { key } = node;
      // `in` would see Object.prototype (`attributes:toString`); only own keys are attributes.
      return (attributes) => Object.hasOwn(attributes, key);
    }
    case 'hasPrefix': {
      const { key, prefix } = node;
      return (attributes) => {
        const value = attributes[key];
        return typeof value === 'string' && value.startsWith(prefix);
      };
    }
    case 'not': {
      const operand = compileFilter(node.operand);
      return (attributes) => !operand(attributes);
    }
    case 'and':
      return compileAll(node.operands.map(compileFilter));
    case 'or':
      return compileAny(node.operands.map(compileFilter));
  }
}

function compileAll(operands: readonly AttributePredicate[]): AttributePredicate {
  // Two operands is the common case; a direct closure spares the loop.
  if (operands.length === 2) {
    const [left, right] = operands;
    return (attributes) => left(attributes) && right(attributes);
  }
  return (attributes) => {
    for (let index = 0; index < operands.length; index++) {
      if (!operands[index](attributes)) return false;
    }
    return true;
  };
}

function compileAny(operands: readonly AttributePredicate[]): AttributePredicate {
  if (operands.length === 2) {
    const [left, right] = operands;
    return (attributes) => left(attributes) || right(attributes);
  }
  return (attributes) => {
    for (let index = 0; index < operands.length; index++) {
      if (operands[index](attributes)) return true;
    }
    return false;
  };
}
