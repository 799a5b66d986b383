/**
 * Fixture parity: replays the golden Python fixtures (`tests/fixtures/minigrid/*.json.gz`, made by
 * `tools/fixtures/gen_minigrid.py` from Minigrid 3.1.0; see the README there) against the
 * TypeScript envs and reports the first differing field per episode. Shared by
 * `deno task parity` (cli/parity.ts) and the tests.
 *
 * An episode = one (file, seed): the reset state (grid, agent, mission, max_steps, first obs,
 * RNG state and u64 draw count), then each recorded trajectory (`random`, and `bot` for BabyAI)
 * replayed from a fresh reset, comparing per step image, direction, reward (bitwise),
 * terminated, truncated, agent pos/dir, carrying and grid changes, then the final grid and RNG.
 *
 * Extensions (BabyAI, helper H2) plug in with `registerParityExtension`: extra reset checks
 * (instruction tree, rejection count) and a bot whose actions are checked against the recorded
 * bot trajectory.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";
import type { MiniGridEnv } from "./minigrid.ts";
import { isRegistered, listEnvIds, make } from "./registry.ts";
import { BABYAI_PARITY } from "./babyai/parity_ext.ts";

/** One recorded trajectory (column-oriented, see fixtures README). */
export interface FixtureTrajectory {
  steps: number;
  actions: number[];
  images: number[];
  directions: number[];
  rewards: number[];
  terminated: number[];
  truncated: number[];
  agent_pos: number[];
  agent_dir: number[];
  carrying: (number[] | null)[];
  grid_diff: number[][][];
  final_grid: number[];
  rng_after: FixtureRng;
  success?: boolean;
  error?: string | null;
  /**
   * Bot trajectories only: the reference's replan never returned (it loops forever) after
   * `after_steps` steps; the generator stopped it after `timeout_s` seconds. The port must stop
   * there with a bounded `BotLoopError`.
   */
  hang?: { timeout_s: number; after_steps: number };
  action_seed?: number;
}

/** Recorded PCG64 state. */
export interface FixtureRng {
  state: string;
  inc: string;
  has_uint32: number;
  uinteger: number;
}

/** Recorded reset state. */
export interface FixtureReset {
  width: number;
  height: number;
  grid: number[];
  agent_pos: number[];
  agent_dir: number;
  mission: string;
  max_steps: number;
  image: number[];
  direction: number;
  carrying: number[] | null;
  rng_after_reset: FixtureRng;
  rng_u64_draws_after_reset: number;
  gen_rejections_printed?: number;
  instr?: unknown;
}

/** One seed's episode. */
export interface FixtureEpisode {
  seed: number;
  reset: FixtureReset;
  random: FixtureTrajectory;
  bot?: FixtureTrajectory;
}

/** A fixture file. */
export interface FixtureFile {
  env_id: string;
  meta: Record<string, unknown>;
  config: {
    entry_point: string;
    kwargs: Record<string, unknown>;
    class: string;
    action_space_n: number;
    agent_view_size: number;
    see_through_walls: boolean;
    babyai: boolean;
    /** Extra kwargs the episodes were generated with (parity_gen.py), passed to make(). */
    extra_kwargs?: Record<string, unknown>;
  };
  seeds: number[];
  episodes: FixtureEpisode[];
}

/** A bot driven as `a = bot.replan(lastAction)` (lastAction null first). */
export interface ParityBot {
  /** Next action given the previous one (null at the start). */
  replan(lastAction: number | null): number;
}

/** Hooks an extension (e.g. BabyAI) adds to the comparison. */
export interface ParityExtension {
  /** Name shown in reports. */
  name: string;
  /** Whether this extension handles an env id. */
  appliesTo(envId: string): boolean;
  /**
   * Extra checks right after reset (e.g. instruction tree, rejection count). Return null when
   * equal, else a description of the first difference.
   */
  checkReset?(env: MiniGridEnv, reset: FixtureReset): string | null;
  /** Build the bot for an env right after reset (checked against the `bot` trajectory). */
  makeBot?(env: MiniGridEnv): ParityBot;
  /**
   * The fixture's `bot.error` text for an exception thrown by the bot's replan, or null when
   * the exception is not a (reference-like) bot failure.
   */
  botErrorText?(e: unknown): string | null;
}

/** The in-repo golden fixtures (`tests/fixtures/minigrid/`), the default of every reader. */
export const FIXTURES_DIR: string = new URL("../../tests/fixtures/minigrid", import.meta.url)
  .pathname;

/** Prefix of the `bot.error` text the port gives where the reference bot loops forever. */
export const BOT_LOOP_ERROR = "BotLoopError:";

const extensions: ParityExtension[] = [BABYAI_PARITY];

/** Register an extension (called by the BabyAI registration module). */
export function registerParityExtension(ext: ParityExtension): void {
  extensions.push(ext);
}

/** Outcome of one episode. */
export interface EpisodeResult {
  /** Env id. */
  envId: string;
  /** Seed. */
  seed: number;
  /** exact | mismatch | unsupported (no TS env for this id) | error (exception). */
  status: "exact" | "mismatch" | "unsupported" | "error";
  /** First differing field (mismatch/error) or reason (unsupported). */
  detail: string | null;
  /** Steps replayed (all trajectories). */
  steps: number;
  /** Which parts were compared ("reset", "random", "bot", "bot-policy", ext names). */
  checked: string[];
}

/** Options of the comparison. */
export interface ParityOptions {
  /** Env factory (default: registry `make`). Return null when the id is not supported. */
  makeEnv?: (file: FixtureFile) => MiniGridEnv | null;
  /** Only check these seeds. */
  seeds?: number[];
}

class Mismatch extends Error {}

function fail(msg: string): never {
  throw new Mismatch(msg);
}

function hexOf(v: bigint): string {
  return "0x" + v.toString(16);
}

function cmpArray(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  if (got.length !== want.length) fail(`${what}: length ${got.length}, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      fail(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
    }
  }
}

function cmpRng(env: MiniGridEnv, want: FixtureRng, what: string): void {
  const st = env.rng.getState();
  if (hexOf(st.state) !== want.state.toLowerCase()) {
    fail(`${what}.state: got ${hexOf(st.state)}, want ${want.state}`);
  }
  if (hexOf(st.inc) !== want.inc.toLowerCase()) {
    fail(`${what}.inc: got ${hexOf(st.inc)}, want ${want.inc}`);
  }
  const h = st.hasUint32 ? 1 : 0;
  if (h !== want.has_uint32) fail(`${what}.has_uint32: got ${h}, want ${want.has_uint32}`);
  if (h === 1 && st.uinteger !== want.uinteger) {
    fail(`${what}.uinteger: got ${st.uinteger}, want ${want.uinteger}`);
  }
}

function carryingOf(env: MiniGridEnv): number[] | null {
  return env.carrying === null ? null : env.carrying.encode();
}

function cmpCarrying(got: number[] | null, want: number[] | null, what: string): void {
  if (got === null || want === null) {
    if (got !== want) fail(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    return;
  }
  cmpArray(got, want, what);
}

function checkReset(
  env: MiniGridEnv,
  r: FixtureReset,
  obsImage: Uint8Array,
  direction: number,
  mission: string,
) {
  if (env.width !== r.width || env.height !== r.height) {
    fail(`reset.size: got ${env.width}x${env.height}, want ${r.width}x${r.height}`);
  }
  cmpArray(env.encodeGrid(), r.grid, "reset.grid");
  cmpArray(env.agentPos, r.agent_pos, "reset.agent_pos");
  if (env.agentDir !== r.agent_dir) {
    fail(`reset.agent_dir: got ${env.agentDir}, want ${r.agent_dir}`);
  }
  if (mission !== r.mission) {
    fail(`reset.mission: got ${JSON.stringify(mission)}, want ${JSON.stringify(r.mission)}`);
  }
  if (env.maxSteps !== r.max_steps) {
    fail(`reset.max_steps: got ${env.maxSteps}, want ${r.max_steps}`);
  }
  cmpArray(obsImage, r.image, "reset.image");
  if (direction !== r.direction) fail(`reset.direction: got ${direction}, want ${r.direction}`);
  cmpCarrying(carryingOf(env), r.carrying, "reset.carrying");
  cmpRng(env, r.rng_after_reset, "reset.rng_after_reset");
  const wantDraws = r.rng_u64_draws_after_reset;
  if (wantDraws !== undefined && wantDraws >= 0 && env.rng.draws !== wantDraws) {
    fail(
      `reset.rng_u64_draws_after_reset: got ${env.rng.draws}, want ${r.rng_u64_draws_after_reset}`,
    );
  }
}

function replay(
  env: MiniGridEnv,
  seed: number,
  tr: FixtureTrajectory,
  name: string,
  bot: ParityBot | null,
): number {
  env.reset({ seed });
  const W = env.width, H = env.height;
  const S = env.agentViewSize * env.agentViewSize * 3;
  let prev: Uint8Array = env.encodeGrid();
  let cur: Uint8Array = new Uint8Array(prev.length);
  let lastAction: number | null = null;
  for (let k = 0; k < tr.steps; k++) {
    const a = tr.actions[k];
    const where = `${name}[step ${k}, action ${a}]`;
    if (bot !== null) {
      const b = bot.replan(lastAction);
      if (b !== a) fail(`${where}.bot_action: bot chose ${b}, fixture has ${a}`);
    }
    const res = env.step(a);
    lastAction = a;
    cmpArray(res.obs.image, tr.images.slice(k * S, (k + 1) * S), `${where}.image`);
    if (res.obs.direction !== tr.directions[k]) {
      fail(`${where}.direction: got ${res.obs.direction}, want ${tr.directions[k]}`);
    }
    if (!Object.is(res.reward, tr.rewards[k]) && !(res.reward === 0 && tr.rewards[k] === 0)) {
      fail(`${where}.reward: got ${res.reward}, want ${tr.rewards[k]}`);
    }
    if (+res.terminated !== tr.terminated[k]) {
      fail(`${where}.terminated: got ${res.terminated}, want ${tr.terminated[k]}`);
    }
    if (+res.truncated !== tr.truncated[k]) {
      fail(`${where}.truncated: got ${res.truncated}, want ${tr.truncated[k]}`);
    }
    if (env.agentX !== tr.agent_pos[2 * k] || env.agentY !== tr.agent_pos[2 * k + 1]) {
      fail(
        `${where}.agent_pos: got [${env.agentPos}], want [${tr.agent_pos.slice(2 * k, 2 * k + 2)}]`,
      );
    }
    if (env.agentDir !== tr.agent_dir[k]) {
      fail(`${where}.agent_dir: got ${env.agentDir}, want ${tr.agent_dir[k]}`);
    }
    cmpCarrying(carryingOf(env), tr.carrying[k], `${where}.carrying`);
    env.encodeGrid(cur);
    const diff: string[] = [];
    for (let x = 0; x < W; x++) {
      for (let y = 0; y < H; y++) {
        const o = (x * H + y) * 3;
        if (cur[o] !== prev[o] || cur[o + 1] !== prev[o + 1] || cur[o + 2] !== prev[o + 2]) {
          diff.push(`[${x},${y},${cur[o]},${cur[o + 1]},${cur[o + 2]}]`);
        }
      }
    }
    const want = tr.grid_diff[k].map((c) => `[${c.join(",")}]`);
    diff.sort();
    want.sort();
    if (diff.join(" ") !== want.join(" ")) {
      fail(`${where}.grid_diff: got ${diff.join(" ") || "none"}, want ${want.join(" ") || "none"}`);
    }
    const t = prev;
    prev = cur;
    cur = t;
  }
  cmpArray(prev, tr.final_grid, `${name}.final_grid`);
  cmpRng(env, tr.rng_after, `${name}.rng_after`);
  return tr.steps;
}

/** Default env factory: the registry, with the fixture's kwargs being the id's defaults. */
function defaultMakeEnv(file: FixtureFile): MiniGridEnv | null {
  if (!isRegistered(file.env_id)) return null;
  return make(file.env_id, file.config?.extra_kwargs ?? {});
}

/** Compare one episode of a fixture file. */
export function compareEpisode(
  file: FixtureFile,
  ep: FixtureEpisode,
  opts: ParityOptions = {},
): EpisodeResult {
  const envId = file.env_id;
  const checked: string[] = [];
  let steps = 0;
  let env: MiniGridEnv | null;
  try {
    env = (opts.makeEnv ?? defaultMakeEnv)(file);
  } catch (e) {
    return {
      envId,
      seed: ep.seed,
      status: "error",
      detail: `make: ${(e as Error).message}`,
      steps,
      checked,
    };
  }
  if (env === null) {
    const why = envId.startsWith("BabyAI-")
      ? "BabyAI level not yet supported"
      : "env id not registered";
    return { envId, seed: ep.seed, status: "unsupported", detail: why, steps, checked };
  }
  const exts = extensions.filter((x) => x.appliesTo(envId));
  try {
    const { obs } = env.reset({ seed: ep.seed });
    checkReset(env, ep.reset, obs.image, obs.direction, obs.mission);
    checked.push("reset");
    for (const x of exts) {
      if (x.checkReset) {
        const d = x.checkReset(env, ep.reset);
        if (d !== null) fail(`reset.${x.name}: ${d}`);
        checked.push(`${x.name}.reset`);
      }
    }
    steps += replay(env, ep.seed, ep.random, "random", null);
    checked.push("random");
    if (ep.bot) {
      // Replay the recorded bot actions; with a bot extension, also check the bot's choices.
      const botExt = exts.find((x) => x.makeBot);
      if (botExt) {
        steps += replayWithBot(env, ep.seed, ep.bot, botExt);
        checked.push("bot", "bot-policy");
      } else {
        steps += replay(env, ep.seed, ep.bot, "bot", null);
        checked.push("bot");
      }
    }
  } catch (e) {
    if (e instanceof Mismatch) {
      return { envId, seed: ep.seed, status: "mismatch", detail: e.message, steps, checked };
    }
    const err = e as Error;
    const at = err.stack?.split("\n").slice(1, 3).map((s) => s.trim()).join(" ") ?? "";
    return {
      envId,
      seed: ep.seed,
      status: "error",
      detail: `${err.name}: ${err.message} ${at}`,
      steps,
      checked,
    };
  }
  return { envId, seed: ep.seed, status: "exact", detail: null, steps, checked };
}

function replayWithBot(
  env: MiniGridEnv,
  seed: number,
  tr: FixtureTrajectory,
  ext: ParityExtension,
): number {
  // Wrap: replay() resets the env first, so make the bot lazily on the first replan.
  let bot: ParityBot | null = null;
  const lazy: ParityBot = {
    replan(last) {
      if (bot === null) bot = ext.makeBot!(env);
      return bot.replan(last);
    },
  };
  const n = replay(env, seed, tr, "bot", lazy);
  if (tr.hang || tr.error) {
    // The recorded bot failed (or hung) at the replan after its last step: ours must fail the
    // same way; where the reference hung, ours must stop with its bounded BotLoopError.
    if (bot === null) bot = ext.makeBot!(env);
    const last = tr.steps > 0 ? tr.actions[tr.steps - 1] : null;
    let got: string | null = null;
    try {
      (bot as ParityBot).replan(last);
    } catch (e) {
      got = ext.botErrorText ? ext.botErrorText(e) : null;
      if (got === null) throw e;
    }
    if (tr.hang) {
      if (got === null || !got.startsWith(BOT_LOOP_ERROR)) {
        fail(
          `bot.hang: the reference bot never returned after step ${tr.hang.after_steps}; ` +
            `got ${got === null ? "an action" : JSON.stringify(got)}, want ${BOT_LOOP_ERROR} ...`,
        );
      }
    } else if (got !== tr.error) {
      fail(
        `bot.error: got ${got === null ? "no error" : JSON.stringify(got)}, want ${
          JSON.stringify(tr.error)
        }`,
      );
    }
  }
  return n;
}

/** Read a fixture JSON file, plain (`.json`) or gzip-compressed (`.json.gz`). */
export function readFixtureJson<T = unknown>(path: string | URL): T {
  const p = path instanceof URL ? path.pathname : path;
  const bytes = Deno.readFileSync(path);
  const text = new TextDecoder().decode(p.endsWith(".gz") ? gunzipSync(bytes) : bytes);
  return JSON.parse(text) as T;
}

/** Read and parse one fixture file (`<env_id>.json` or `<env_id>.json.gz`). */
export function loadFixture(path: string | URL): FixtureFile {
  return readFixtureJson<FixtureFile>(path);
}

/** The env id a fixture file name stands for ("X-v0.json.gz" -> "X-v0"). */
export function fixtureEnvId(name: string): string {
  return name.replace(/\.json(\.gz)?$/, "");
}

/**
 * Fixture file names (sorted) of a directory: every `*.json` / `*.json.gz` except the index and
 * the RNG traces. Where both forms of one id exist, the plain `.json` wins. A symlink counts as
 * the file it points to (a folder of links into another checkout works); a dangling one is an
 * error naming the link and its target.
 */
export function listFixtureFiles(dir: string | URL): string[] {
  const byId = new Map<string, string>();
  const base = dir instanceof URL ? dir.pathname : dir;
  for (const e of Deno.readDirSync(dir)) {
    if (!/\.json(\.gz)?$/.test(e.name)) continue;
    if (e.name.startsWith("index.json") || e.name.startsWith("rng_traces")) continue;
    if (e.isSymlink) {
      const link = `${base.replace(/\/$/, "")}/${e.name}`;
      let isFile = false;
      try {
        isFile = Deno.statSync(link).isFile;
      } catch (err) {
        throw new Error(
          `fixture ${link} is a symlink to ${Deno.readLinkSync(link)}, which cannot be read ` +
            `(${(err as Error).message}); fix or remove the link`,
        );
      }
      if (!isFile) continue;
    } else if (!e.isFile) continue;
    const id = fixtureEnvId(e.name);
    if (!byId.has(id) || e.name.endsWith(".json")) byId.set(id, e.name);
  }
  return [...byId.values()].sort();
}

/** Registered env ids that have no fixture file in `dir`, and fixture ids not registered. */
export function fixtureCoverage(
  dir: string | URL,
  registered: string[] = listEnvIds(),
): { covered: string[]; missing: string[]; unregistered: string[] } {
  const have = new Set(listFixtureFiles(dir).map(fixtureEnvId));
  return {
    covered: registered.filter((id) => have.has(id)),
    missing: registered.filter((id) => !have.has(id)),
    unregistered: [...have].filter((id) => !registered.includes(id)).sort(),
  };
}

/** Compare every episode of one file. */
export function compareFile(file: FixtureFile, opts: ParityOptions = {}): EpisodeResult[] {
  // One env object per file, reset per episode in seed order, like the fixture generator:
  // some levels (BabyAI Synth*, via LevelGen's never-cleared locked_room) depend on the
  // previous reset of the same object.
  let shared: MiniGridEnv | null | undefined;
  const base = opts.makeEnv ?? defaultMakeEnv;
  const makeEnv = (f: FixtureFile) => shared === undefined ? (shared = base(f)) : shared;
  return file.episodes
    .filter((ep) => !opts.seeds || opts.seeds.includes(ep.seed))
    .map((ep) => compareEpisode(file, ep, { ...opts, makeEnv }));
}

/** Compare every fixture file in a directory. */
export function runParity(dir: string = FIXTURES_DIR, opts: ParityOptions = {}): EpisodeResult[] {
  const out: EpisodeResult[] = [];
  for (const name of listFixtureFiles(dir)) {
    out.push(...compareFile(loadFixture(`${dir}/${name}`), opts));
  }
  return out;
}

/** A text table per env id plus the failing episodes and the final `parity: N/M` line. */
export function formatReport(results: EpisodeResult[]): string {
  const byId = new Map<string, EpisodeResult[]>();
  for (const r of results) {
    if (!byId.has(r.envId)) byId.set(r.envId, []);
    byId.get(r.envId)!.push(r);
  }
  const w = Math.max(6, ...[...byId.keys()].map((k) => k.length));
  const lines: string[] = [];
  lines.push(`${"env id".padEnd(w)}  episodes  exact  steps  status`);
  lines.push(`${"-".repeat(w)}  --------  -----  -----  ------`);
  for (const [id, rs] of byId) {
    const exact = rs.filter((r) => r.status === "exact").length;
    const steps = rs.reduce((a, r) => a + r.steps, 0);
    let status = "ok";
    if (rs.some((r) => r.status === "mismatch" || r.status === "error")) status = "MISMATCH";
    else if (rs.every((r) => r.status === "unsupported")) {
      status = `not yet supported (${rs[0].detail})`;
    } else if (exact < rs.length) status = "partial";
    const checked = [...new Set(rs.flatMap((r) => r.checked))].join("+");
    lines.push(
      `${id.padEnd(w)}  ${String(rs.length).padStart(8)}  ${String(exact).padStart(5)}  ${
        String(steps).padStart(5)
      }  ${status}${status === "ok" ? ` [${checked}]` : ""}`,
    );
  }
  const bad = results.filter((r) => r.status === "mismatch" || r.status === "error");
  if (bad.length > 0) {
    lines.push("");
    lines.push("first differing field per failing episode:");
    for (const r of bad) lines.push(`  ${r.envId} seed ${r.seed} (${r.status}): ${r.detail}`);
  }
  const exact = results.filter((r) => r.status === "exact").length;
  const unsupported = results.filter((r) => r.status === "unsupported").length;
  lines.push("");
  if (unsupported > 0) {
    lines.push(`${unsupported} episodes not yet supported (not counted as exact)`);
  }
  lines.push(`parity: ${exact}/${results.length} episodes exact`);
  return lines.join("\n");
}
