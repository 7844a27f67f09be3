// Module resolve hooks (registered with module.register by alias-ws.ts): `ws` imported from
// any ES module resolves to tether-ws/ws. Not a test file.
let target = '';

export function initialize(data: { target: string }): void {
  target = data.target;
}

export async function resolve(
  specifier: string,
  context: unknown,
  next: (specifier: string, context: unknown) => Promise<{ url: string }>,
): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'ws') return { url: target, shortCircuit: true };
  return next(specifier, context);
}
