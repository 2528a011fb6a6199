/** Time as a retry loop sees it; tests inject a fake one instead of waiting. */
export interface Clock {
  now(): number;
  sleep(millis: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (millis) => new Promise((resolve) => setTimeout(resolve, millis)),
};
