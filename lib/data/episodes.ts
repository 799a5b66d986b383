/**
 * Episodes in memory: the flat typed-array block every stage passes around
 * ({@link Episodes}), its consistency check, and concatenation and selection
 * of blocks.
 *
 * @module
 */

import { ACTION_NONE, ACTION_VOCAB, DIR_VOCAB } from "./types.ts";

/** Values per frame image (7 x 7 x 3). */
export const IMAGE_SIZE = 147;

/**
 * Episodes as flat typed arrays: one shard, or a whole split after
 * `loadDataset` (store.ts). Frame arrays have F entries, episode arrays E.
 */
export interface Episodes {
  /** [F, 7, 7, 3] uint8 (object, colour, state of each cell; cell index `vx * 7 + vy`). */
  images: Uint8Array;
  /** [F] agent direction. */
  directions: Uint8Array;
  /** [F] action after the frame; {@link ACTION_NONE} on each episode's last frame. */
  actions: Uint8Array;
  /** [F] reward received for the frame's action (0 on the last frame). */
  rewards: Float64Array;
  /** [F] 0/1: the frame's step terminated the episode. */
  terminated: Uint8Array;
  /** [F] 0/1: the frame's step truncated the episode. */
  truncated: Uint8Array;
  /** [E + 1] frame offsets: episode e is frames [episodeOffsets[e], episodeOffsets[e+1]). */
  episodeOffsets: Int32Array;
  /** [E] index into the dataset's `envIds`. */
  envIndex: Int32Array;
  /** [E] env seed of each episode. */
  seeds: Int32Array;
  /** [E] position of each episode in its split's plan. */
  episodeIndex: Int32Array;
  /** [E] steps per episode (frames - 1). */
  lengths: Int32Array;
  /** [E] sum of rewards. */
  returns: Float64Array;
  /** [E] 0/1: terminated with a positive reward. */
  success: Uint8Array;
  /** [E] mission string of each episode. */
  missions: string[];
}

/** A zero-filled block of E episodes and F frames (no missions yet), to be filled in place. */
export function emptyEpisodes(E: number, F: number): Episodes {
  return {
    images: new Uint8Array(F * IMAGE_SIZE),
    directions: new Uint8Array(F),
    actions: new Uint8Array(F),
    rewards: new Float64Array(F),
    terminated: new Uint8Array(F),
    truncated: new Uint8Array(F),
    episodeOffsets: new Int32Array(E + 1),
    envIndex: new Int32Array(E),
    seeds: new Int32Array(E),
    episodeIndex: new Int32Array(E),
    lengths: new Int32Array(E),
    returns: new Float64Array(E),
    success: new Uint8Array(E),
    missions: [],
  };
}

/**
 * Check that episodes are internally consistent (lengths, offsets, value
 * ranges). Returns problem descriptions (empty when fine). `where` prefixes them.
 */
export function checkEpisodes(ep: Episodes, where: string, numEnvs?: number): string[] {
  const p: string[] = [];
  const E = ep.envIndex.length;
  const off = ep.episodeOffsets;
  if (off.length !== E + 1) {
    p.push(`${where}: episode_offsets has ${off.length} entries, expected E+1 = ${E + 1}`);
  }
  const F = off.length > 0 ? off[off.length - 1] : 0;
  if (off.length > 0 && off[0] !== 0) {
    p.push(`${where}: episode_offsets[0] = ${off[0]}, expected 0`);
  }
  for (let e = 0; e + 1 < off.length; e++) {
    if (off[e + 1] - off[e] < 1) {
      p.push(`${where}: episode ${e} has ${off[e + 1] - off[e]} frames (offsets not increasing)`);
      break;
    }
  }
  const frameLens: [string, number][] = [
    ["images", ep.images.length / IMAGE_SIZE],
    ["directions", ep.directions.length],
    ["actions", ep.actions.length],
    ["rewards", ep.rewards.length],
    ["terminated", ep.terminated.length],
    ["truncated", ep.truncated.length],
  ];
  for (const [n, len] of frameLens) {
    if (len !== F) p.push(`${where}: ${n} has ${len} frames, episode_offsets say ${F}`);
  }
  const epLens: [string, number][] = [
    ["seeds", ep.seeds.length],
    ["episode_index", ep.episodeIndex.length],
    ["lengths", ep.lengths.length],
    ["returns", ep.returns.length],
    ["success", ep.success.length],
    ["missions", ep.missions.length],
  ];
  for (const [n, len] of epLens) {
    if (len !== E) p.push(`${where}: ${n} has ${len} entries, env_index has ${E}`);
  }
  if (p.length > 0) return p;
  for (let e = 0; e < E; e++) {
    const last = off[e + 1] - 1;
    if (ep.lengths[e] !== off[e + 1] - off[e] - 1) {
      p.push(
        `${where}: lengths[${e}] = ${ep.lengths[e]} but the episode has ${
          off[e + 1] - off[e]
        } frames`,
      );
      break;
    }
    if (ep.actions[last] !== ACTION_NONE) {
      p.push(
        `${where}: episode ${e}'s last frame has action ${
          ep.actions[last]
        }, expected ${ACTION_NONE}`,
      );
      break;
    }
    if (numEnvs !== undefined && (ep.envIndex[e] < 0 || ep.envIndex[e] >= numEnvs)) {
      p.push(`${where}: env_index[${e}] = ${ep.envIndex[e]} outside 0..${numEnvs - 1}`);
      break;
    }
  }
  for (let i = 0; i < F; i++) {
    if (ep.directions[i] >= DIR_VOCAB || ep.actions[i] >= ACTION_VOCAB) {
      p.push(
        `${where}: frame ${i} has direction ${ep.directions[i]} / action ${
          ep.actions[i]
        } out of range`,
      );
      break;
    }
  }
  return p;
}

/**
 * The per-frame arrays of episodes (one episode, or a block), as in {@link Episodes}: the last
 * frame of an episode has action ACTION_NONE, reward 0 and false flags.
 */
export type EpisodeFrames = Pick<
  Episodes,
  "images" | "directions" | "actions" | "rewards" | "terminated" | "truncated"
>;

/** Copies every per-frame array of `src` into `dst`, starting at frame `at`. */
export function copyFrames(dst: EpisodeFrames, src: EpisodeFrames, at: number): void {
  dst.images.set(src.images, at * IMAGE_SIZE);
  dst.directions.set(src.directions, at);
  dst.actions.set(src.actions, at);
  dst.rewards.set(src.rewards, at);
  dst.terminated.set(src.terminated, at);
  dst.truncated.set(src.truncated, at);
}

/** Concatenate episode blocks (offsets rebased). */
export function concatEpisodes(parts: Episodes[]): Episodes {
  const E = parts.reduce((a, p) => a + p.envIndex.length, 0);
  const F = parts.reduce((a, p) => a + p.episodeOffsets[p.envIndex.length], 0);
  const out = emptyEpisodes(E, F);
  let f0 = 0, e0 = 0;
  for (const p of parts) {
    const pe = p.envIndex.length, pf = p.episodeOffsets[pe];
    copyFrames(out, p, f0);
    for (let e = 0; e < pe; e++) out.episodeOffsets[e0 + e + 1] = f0 + p.episodeOffsets[e + 1];
    out.envIndex.set(p.envIndex, e0);
    out.seeds.set(p.seeds, e0);
    out.episodeIndex.set(p.episodeIndex, e0);
    out.lengths.set(p.lengths, e0);
    out.returns.set(p.returns, e0);
    out.success.set(p.success, e0);
    for (const s of p.missions) out.missions.push(s);
    f0 += pf;
    e0 += pe;
  }
  return out;
}

/** The episodes `e` for which `keep(e)` is true, as a new block. */
export function selectEpisodes(ep: Episodes, keep: (e: number) => boolean): Episodes {
  const parts: Episodes[] = [];
  const E = ep.envIndex.length;
  for (let e = 0; e < E; e++) {
    if (!keep(e)) continue;
    const a = ep.episodeOffsets[e], b = ep.episodeOffsets[e + 1];
    parts.push({
      images: ep.images.subarray(a * IMAGE_SIZE, b * IMAGE_SIZE),
      directions: ep.directions.subarray(a, b),
      actions: ep.actions.subarray(a, b),
      rewards: ep.rewards.subarray(a, b),
      terminated: ep.terminated.subarray(a, b),
      truncated: ep.truncated.subarray(a, b),
      episodeOffsets: Int32Array.from([0, b - a]),
      envIndex: ep.envIndex.subarray(e, e + 1),
      seeds: ep.seeds.subarray(e, e + 1),
      episodeIndex: ep.episodeIndex.subarray(e, e + 1),
      lengths: ep.lengths.subarray(e, e + 1),
      returns: ep.returns.subarray(e, e + 1),
      success: ep.success.subarray(e, e + 1),
      missions: [ep.missions[e]],
    });
  }
  return concatEpisodes(parts);
}
