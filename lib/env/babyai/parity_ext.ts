/**
 * The BabyAI part of the fixture comparison (plugged into `lib/env/parity.ts`):
 * after reset, the instruction tree (kinds, descriptions, strict flags) and the
 * number of generation restarts; the expert bot, whose action at every step
 * must equal the recorded one, and whose failure (KeyInBox) must be the same
 * Python exception text as recorded in `bot.error`.
 *
 * Only type imports from parity.ts here, so parity.ts can import this module
 * without an import cycle.
 *
 * @module
 */

import type { MiniGridEnv } from "../minigrid.ts";
import type { FixtureReset, ParityBot, ParityExtension } from "../parity.ts";
import { BabyAIBot, BotError } from "./bot.ts";
import { RoomGridLevel } from "./roomgrid_level.ts";

function asLevel(env: MiniGridEnv): RoomGridLevel {
  if (!(env instanceof RoomGridLevel)) {
    throw new Error(`${env.constructor.name} is not a BabyAI RoomGridLevel`);
  }
  return env;
}

/** First difference between two JSON values ("" when equal). */
export function jsonDiff(got: unknown, want: unknown, path = "instr"): string {
  if (want === null || typeof want !== "object") {
    return Object.is(got, want)
      ? ""
      : `${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
  }
  if (got === null || typeof got !== "object") {
    return `${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
  }
  const g = got as Record<string, unknown>, w = want as Record<string, unknown>;
  const keys = new Set([...Object.keys(g), ...Object.keys(w)]);
  for (const k of keys) {
    const d = jsonDiff(g[k], w[k], `${path}.${k}`);
    if (d) return d;
  }
  return "";
}

/** The BabyAI parity extension. */
export const BABYAI_PARITY: ParityExtension = {
  name: "babyai",
  appliesTo: (envId: string) => envId.startsWith("BabyAI-"),
  checkReset(env: MiniGridEnv, reset: FixtureReset): string | null {
    const lvl = asLevel(env);
    if (reset.instr !== undefined) {
      const d = jsonDiff(lvl.instrs.toJSON(), reset.instr);
      if (d) return d;
    }
    if (lvl.surface !== reset.mission) {
      return `surface: got ${JSON.stringify(lvl.surface)}, want ${JSON.stringify(reset.mission)}`;
    }
    if (
      reset.gen_rejections_printed !== undefined &&
      lvl.genRejections !== reset.gen_rejections_printed
    ) {
      return `gen_rejections_printed: got ${lvl.genRejections}, want ${reset.gen_rejections_printed}`;
    }
    return null;
  },
  makeBot(env: MiniGridEnv): ParityBot {
    return new BabyAIBot(asLevel(env));
  },
  botErrorText(e: unknown): string | null {
    return e instanceof BotError ? e.pythonText : null;
  },
};
