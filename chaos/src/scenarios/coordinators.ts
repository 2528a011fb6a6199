import type { ScenarioContext } from '../scenario';

/**
 * Notes which broker coordinates each subscription's consumer group, and so
 * whether the broker about to be hit is one: commits go through the coordinator.
 */
export async function noteCoordinators(ctx: ScenarioContext, victim: number): Promise<void> {
  const subscriptions = [...ctx.history.subscriptions.keys()];
  const coordinators = await ctx.deployment.groupCoordinators(subscriptions.map((s) => ctx.deployment.groupOf(s)));
  const lines = subscriptions.map((s) => {
    const broker = coordinators.get(ctx.deployment.groupOf(s));
    return `${s}: broker ${broker ?? '?'}${broker === victim ? ' (the one hit)' : ''}`;
  });
  ctx.log(`group coordinators: ${lines.join(', ')}`);
  ctx.note(`Consumer group coordinators when the fault began: ${lines.join(', ')}.`);
}
