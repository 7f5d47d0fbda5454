/** A ProjectionExpression of these attributes, each through a placeholder: several of ours (name, attributes...) are reserved words. */
export function projectionOf(attributes: string[]) {
  return {
    ProjectionExpression: attributes.map((_, i) => `#p${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#p${i}`, a])),
  };
}
