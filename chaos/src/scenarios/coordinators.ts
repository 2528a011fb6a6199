import type { ScenarioContext } from '../scenario';

/**
 * Notes which broker coordinates the dispatchers' group, and so whether the
 * broker about to be hit is it: who serves which subscription is decided there.
 */
export async function noteCoordinators(ctx: ScenarioContext, victim: number): Promise<void> {
  const group = ctx.deployment.dispatcherGroup();
  const broker = (await ctx.deployment.groupCoordinators([group])).get(group);
  const line = `${group}: broker ${broker ?? '?'}${broker === victim ? ' (the one hit)' : ''}`;
  ctx.log(`group coordinator: ${line}`);
  ctx.note(`Coordinator of the dispatchers' group when the fault began: ${line}.`);
}
