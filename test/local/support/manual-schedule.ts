/**
 * A {@link Schedule} the test drives: nothing fires by itself; `fire(ms)` runs every pending callback
 * scheduled with that delay (e.g. the init limit, or the integration timeout), `pending(ms)` counts them.
 */
import type { Schedule } from '../../../local/lambda-protocol.ts';

export interface ManualSchedule {
  schedule: Schedule;
  pending(ms: number): number;
  fire(ms: number): void;
}

export function manualSchedule(): ManualSchedule {
  const waiting = new Set<{ callback: () => void; ms: number }>();
  return {
    schedule(callback, ms) {
      const entry = { callback, ms };
      waiting.add(entry);
      return () => waiting.delete(entry);
    },
    pending: (ms) => [...waiting].filter((entry) => entry.ms === ms).length,
    fire(ms) {
      for (const entry of [...waiting]) {
        if (entry.ms !== ms) continue;
        waiting.delete(entry);
        entry.callback();
      }
    },
  };
}
