import { reservedHeaderPrefix } from '@herald/kafka';

/** The attributes an application published: without the reserved ones Herald added on the way. */
export function applicationAttributes(attributes: Record<string, string>): Record<string, string> {
  let reserved = false;
  for (const name in attributes) {
    if (name.startsWith(reservedHeaderPrefix)) {
      reserved = true;
      break;
    }
  }
  if (!reserved) return attributes;
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => !name.startsWith(reservedHeaderPrefix)));
}
