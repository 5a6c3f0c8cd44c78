/** dynalite ships no types; this is the part of its API we use. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** How long tables stay in CREATING (ms); 0 makes them ACTIVE at once. */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** A LevelDB directory; in memory when unset. */
    path?: string;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
