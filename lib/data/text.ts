/**
 * Trajectories as text a pretrained LM can read: each 7x7 egocentric view described in
 * BabyAI-Text's sentences, the mission as a task line, actions as BabyAI-Text's action strings,
 * and the reverse parser from an action string back to an action id.
 *
 * **Observations.** BabyAI-Text (Carta et al. 2023, "Grounding LLMs with online RL",
 * `flowersteam/Grounding_LLMs_with_online_RL`, also the BALROG benchmark's babyai_text tasks)
 * describes a view with a list of sentences, in this order (our implementation of its published
 * rules; `tests/fixtures/babyai_text/` holds the rules run on the Python reference):
 *
 * 1. `You carry a <color> <type>` when the agent carries something (the carried object sits in the
 *    agent's own cell of the view, `vx = 3, vy = 6`).
 * 2. Walls along three straight lines from the agent, forward, then left, then right: unseen and
 *    empty cells are skipped, the first other cell ends the line, and only a wall there gives
 *    `You see a wall <n> step[s] forward|left|right`.
 * 3. Every other visible object (not unseen, empty or wall; the agent's cell excluded), column by
 *    column from the left (`vx` 0..6), far to near within a column (`vy` 0..6):
 *    `You see a <color> <type> <where>`, doors `You see a <state> <color> door <where>` (state
 *    open, closed or locked; BabyAI-Text writes "a open" too, and so does this). `<where>` is
 *    `<n> step[s] forward` in the agent's column, `<n> step[s] left|right` in its row, else
 *    `<dx> step[s] left|right and <dy> step[s] forward`; "step" for 1, "steps" above.
 *
 * The sentences of one view are joined into one line with ", " (as BabyAI-Text's own prompts do);
 * a view with no sentence at all reads {@link NOTHING_SEEN} (our addition: an empty unit would be
 * invisible to a unit-masking trainer).
 *
 * **Actions.** {@link ACTION_STRINGS}: BabyAI-Text's six ("turn left", "turn right", "go forward",
 * "pick up", "drop", "toggle") plus "done" for MiniGrid's action 6, which BabyAI-Text does not
 * offer. {@link parseAction} maps a string back to its id.
 *
 * **Closed loop.** {@link TextEpisode} builds, step by step, the prompt an exported `sft_standard`
 * record holds (task line, then observations and actions, one per line) and turns the model's
 * answer back into an action id:
 *
 * ```ts
 * const ep = new TextEpisode(obs.mission);
 * ep.observe(obs.image);
 * while (!done) {
 *   const a = ep.act(await model(ep.prompt())); // throws on a string that is no action
 *   ({ obs, terminated, truncated } = env.step(a));
 *   ep.observe(obs.image);
 * }
 * ```
 *
 * @module
 */

import { IDX_TO_COLOR, IDX_TO_OBJECT, OBJECT_TO_IDX } from "../env/constants.ts";
import { IMAGE_SIZE } from "./episodes.ts";

/** Side of the egocentric view. */
const VIEW = 7;
/** The agent's cell in the view: centre column, nearest row. */
const AGENT_VX = 3, AGENT_VY = 6;
const UNSEEN = OBJECT_TO_IDX.unseen, EMPTY = OBJECT_TO_IDX.empty, WALL = OBJECT_TO_IDX.wall;
const DOOR = OBJECT_TO_IDX.door;
const DOOR_STATES = ["open", "closed", "locked"] as const;

/** The action strings, index = MiniGrid action id (0 turn left ... 6 done). */
export const ACTION_STRINGS: readonly string[] = Object.freeze([
  "turn left",
  "turn right",
  "go forward",
  "pick up",
  "drop",
  "toggle",
  "done",
]);

/** What a view with no sentence reads as one line. */
export const NOTHING_SEEN = "You see nothing";

/** Separator of the sentences of one view on its line. */
export const SENTENCE_SEPARATOR = ", ";

/** The task line that opens a trajectory: `Goal of the agent: <mission>` (BabyAI-Text's prompt). */
export function missionLine(mission: string): string {
  return `Goal of the agent: ${mission}`;
}

function steps(n: number): string {
  return n === 1 ? "1 step" : `${n} steps`;
}

function colorName(c: number, where: string): string {
  const name = IDX_TO_COLOR[c];
  if (name === undefined) throw new Error(`${where}: colour id ${c} is not 0..5`);
  return name;
}

/**
 * The BabyAI-Text sentences of one 7x7 view (`image` in MiniGrid's `obs["image"]` layout,
 * index `(vx * 7 + vy) * 3 + c`, 147 values from `offset`). Throws naming the cell on an id
 * outside MiniGrid's tables.
 */
export function describeView(image: ArrayLike<number>, offset = 0): string[] {
  if (image.length - offset < IMAGE_SIZE) {
    throw new Error(`describeView: need ${IMAGE_SIZE} values from ${offset}, got ${image.length}`);
  }
  const at = (vx: number, vy: number, c: number) => image[offset + (vx * VIEW + vy) * 3 + c];
  const out: string[] = [];
  const held = at(AGENT_VX, AGENT_VY, 0);
  if (held !== UNSEEN && held !== EMPTY) {
    out.push(`You carry a ${colorName(at(AGENT_VX, AGENT_VY, 1), "carried")} ${objName(held)}`);
  }
  // Walls: forward (the agent's column), left, right (its row), nearest cell first.
  const lines: [string, [number, number][]][] = [
    ["forward", Array.from({ length: AGENT_VY }, (_, k) => [AGENT_VX, AGENT_VY - 1 - k])],
    ["left", Array.from({ length: AGENT_VX }, (_, k) => [AGENT_VX - 1 - k, AGENT_VY])],
    ["right", Array.from({ length: VIEW - 1 - AGENT_VX }, (_, k) => [AGENT_VX + 1 + k, AGENT_VY])],
  ];
  for (const [word, cells] of lines) {
    for (const [k, [vx, vy]] of cells.entries()) {
      const t = at(vx, vy, 0);
      if (t === UNSEEN || t === EMPTY) continue;
      if (t === WALL) out.push(`You see a wall ${steps(k + 1)} ${word}`);
      break;
    }
  }
  for (let vx = 0; vx < VIEW; vx++) {
    for (let vy = 0; vy < VIEW; vy++) {
      const t = at(vx, vy, 0);
      if (t === UNSEEN || t === EMPTY || t === WALL || (vx === AGENT_VX && vy === AGENT_VY)) {
        continue;
      }
      const cell = `cell (vx ${vx}, vy ${vy})`;
      const dx = vx - AGENT_VX, dy = AGENT_VY - vy;
      const side = dx > 0 ? "right" : "left";
      const where = dx === 0
        ? `${steps(dy)} forward`
        : dy === 0
        ? `${steps(Math.abs(dx))} ${side}`
        : `${steps(Math.abs(dx))} ${side} and ${steps(dy)} forward`;
      let what: string;
      if (t === DOOR) {
        const s = DOOR_STATES[at(vx, vy, 2)];
        if (s === undefined) throw new Error(`${cell}: door state ${at(vx, vy, 2)} is not 0..2`);
        what = `${s} ${colorName(at(vx, vy, 1), cell)} door`;
      } else what = `${colorName(at(vx, vy, 1), cell)} ${objName(t)}`;
      out.push(`You see a ${what} ${where}`);
    }
  }
  return out;
}

function objName(t: number): string {
  const name = IDX_TO_OBJECT[t];
  if (name === undefined) throw new Error(`object id ${t} is not 0..10`);
  return name;
}

/** One view as one line: its sentences joined by {@link SENTENCE_SEPARATOR}, or {@link NOTHING_SEEN}. */
export function observationText(sentences: readonly string[]): string {
  return sentences.length === 0 ? NOTHING_SEEN : sentences.join(SENTENCE_SEPARATOR);
}

/** The sentences of an observation line (the inverse of {@link observationText}). */
export function observationSentences(line: string): string[] {
  return line === NOTHING_SEEN ? [] : line.split(SENTENCE_SEPARATOR);
}

/**
 * One view in the flat token text of lib/data/flat.ts: `o<obj> c<color> s<state>` for the 49
 * cells in index order, then `d<direction>` (no action, no `<frame>` marker).
 */
export function observationTokens(image: ArrayLike<number>, offset: number, dir: number): string {
  const parts: string[] = [];
  for (let i = 0; i < IMAGE_SIZE; i += 3) {
    const v = offset + i;
    parts.push(`o${image[v]} c${image[v + 1]} s${image[v + 2]}`);
  }
  parts.push(`d${dir}`);
  return parts.join(" ");
}

/** The action string of an action id 0..6; throws for anything else (7 = no action). */
export function actionString(id: number): string {
  const s = ACTION_STRINGS[id];
  if (!Number.isInteger(id) || s === undefined) {
    throw new Error(
      `action id ${id} has no action string (ids 0..6: ${ACTION_STRINGS.join(", ")})`,
    );
  }
  return s;
}

/**
 * The action id of an action string, as a fine-tuned LM would emit it: exactly one of
 * {@link ACTION_STRINGS} after trimming surrounding whitespace (case and inner spacing must
 * match). Anything else throws an error that quotes the text and lists the valid strings.
 */
export function parseAction(text: string): number {
  const id = ACTION_STRINGS.indexOf(text.trim());
  if (id < 0) {
    const shown = text.length > 60
      ? `${JSON.stringify(text.slice(0, 60))}...`
      : JSON.stringify(text);
    throw new Error(
      `not an action string: ${shown}; valid: ${ACTION_STRINGS.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  return id;
}

/**
 * The `sft_standard` user message of a history: the task line, then O_0, A_0, ..., O_t, one per
 * line (`observations` has one entry more than `actions`).
 */
export function historyPrompt(
  task: string,
  observations: readonly string[],
  actions: readonly string[],
): string {
  if (observations.length !== actions.length + 1) {
    throw new Error(
      `historyPrompt: ${observations.length} observations for ${actions.length} actions; ` +
        "a prompt ends with an observation (one more observation than actions)",
    );
  }
  const lines = [task];
  observations.forEach((o, t) => {
    lines.push(o);
    if (t < actions.length) lines.push(actions[t]);
  });
  return lines.join("\n");
}

/**
 * One episode as text, built as it is played: {@link observe} each view, {@link prompt} for the
 * model's input (the same text as an exported `sft_standard` user message), {@link act} with the
 * model's answer to get the action id to step the env with.
 */
export class TextEpisode {
  /** The task line. */
  readonly task: string;
  /** Observation lines so far. */
  readonly observations: string[] = [];
  /** Action strings so far. */
  readonly actions: string[] = [];
  /** `text` (BabyAI-Text sentences) or `tokens` (flat cell tokens, needs the direction). */
  readonly obs: "text" | "tokens";

  /** @param mission the mission string; @param obs the observation form (default text) */
  constructor(mission: string, obs: "text" | "tokens" = "text") {
    this.task = missionLine(mission);
    this.obs = obs;
  }

  /** Adds the next view (after reset, then after each action). */
  observe(image: ArrayLike<number>, direction = 0): void {
    if (this.observations.length !== this.actions.length) {
      throw new Error("TextEpisode.observe: act on the last observation first");
    }
    this.observations.push(
      this.obs === "text"
        ? observationText(describeView(image))
        : observationTokens(image, 0, direction),
    );
  }

  /** The model's input now: task line and history, ending with the latest observation. */
  prompt(): string {
    return historyPrompt(this.task, this.observations, this.actions);
  }

  /** Records the model's answer (see {@link parseAction}) and returns its action id. */
  act(answer: string): number {
    if (this.observations.length !== this.actions.length + 1) {
      throw new Error("TextEpisode.act: observe the first (or next) view before acting");
    }
    const id = parseAction(answer);
    this.actions.push(ACTION_STRINGS[id]);
    return id;
  }
}
