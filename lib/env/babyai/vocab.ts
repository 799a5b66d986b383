/**
 * The mission vocabulary: every word a BabyAI or MiniGrid mission (Minigrid
 * 3.1.0) can contain, and a tokenizer for it.
 *
 * Tokenization rule: a mission is split on single spaces; a word may carry a
 * trailing comma, which becomes its own token `","` (so
 * `"open the red door, then open the blue door"` is 9 words + 1 comma = 10
 * tokens). {@link decodeMission} joins tokens with spaces and glues `","` to
 * the word before it, which reproduces the original text exactly.
 *
 * Ids are stable: 0 is `"<pad>"`, the BabyAI grammar words come first, then the
 * words that only classic MiniGrid missions use. Append new words at the end
 * only, never reorder (datasets store these ids).
 *
 * Sources of the words: the BabyAI instruction grammar (ObjDesc surface forms,
 * GoTo/Pickup/Open/PutNext, And/Before/After connectives) and the mission
 * strings of every MiniGrid env family (empty, crossing, lavagap, distshift,
 * doorkey, dynamicobstacles, fetch, fourrooms, gotodoor, gotoobject,
 * keycorridor, lockedroom, memory, multiroom, obstructedmaze, putnear,
 * redbluedoors, unlock, unlockpickup, blockedunlockpickup, wfc). Playground's
 * empty mission encodes to zero tokens.
 *
 * @module
 */

/** Padding token (id 0). */
export const PAD_TOKEN = "<pad>";

/** Colour names in the order used by the vocabulary (COLOR_TO_IDX order). */
const COLORS = ["red", "green", "blue", "purple", "yellow", "grey"] as const;

/**
 * All mission tokens; the index of a word is its id. Id 0 is {@link PAD_TOKEN}.
 */
export const MISSION_VOCAB: readonly string[] = Object.freeze([
  PAD_TOKEN,
  // BabyAI instruction grammar
  "go",
  "to",
  "pick",
  "up",
  "open",
  "put",
  "next",
  "the",
  "a",
  ...COLORS,
  "box",
  "ball",
  "key",
  "door",
  "object",
  "in",
  "front",
  "of",
  "you",
  "behind",
  "on",
  "your",
  "left",
  "right",
  ",",
  "then",
  "and",
  "after",
  // classic MiniGrid missions
  "get",
  "goal",
  "square",
  "avoid",
  "lava",
  "find",
  "opening",
  "use",
  "reach",
  "fetch",
  "must",
  "matching",
  "at",
  "end",
  "hallway",
  "traverse",
  "rooms",
  "maze",
  "from",
  "room",
  "unlock",
  "near",
]);

/**
 * The most tokens any mission can have: a BabyAI sequence of two "and"s of two
 * PutNext clauses whose descriptions all carry a location
 * ("put the red ball in front of you next to the red ball in front of you" =
 * 17 tokens; and = 35; "," + "then" / "after you" = 72). Classic MiniGrid
 * missions are shorter (LockedRoom: 20).
 */
export const MAX_MISSION_TOKENS = 72;

/** Number of mission tokens including `<pad>` (embedding table size). */
export const MISSION_VOCAB_SIZE: number = MISSION_VOCAB.length;

const WORD_TO_ID: ReadonlyMap<string, number> = new Map(
  MISSION_VOCAB.map((w, i) => [w, i] as const),
);
const COMMA_ID = WORD_TO_ID.get(",")!;

/** Error raised when a mission cannot be tokenized (unknown word or too long). */
export class MissionTokenError extends Error {
  /** @param message what was wrong and what to do */
  constructor(message: string) {
    super(message);
    this.name = "MissionTokenError";
  }
}

/** Splits a mission into its tokens (words, with `","` as its own token). */
export function tokenizeMission(text: string): string[] {
  const out: string[] = [];
  if (text.length === 0) return out;
  for (const chunk of text.split(" ")) {
    if (chunk.length === 0) {
      throw new MissionTokenError(
        `mission ${JSON.stringify(text)} has an empty word (double, leading or trailing space); ` +
          `missions are single-space separated`,
      );
    }
    if (chunk.length > 1 && chunk.endsWith(",")) {
      out.push(chunk.slice(0, -1), ",");
    } else {
      out.push(chunk);
    }
  }
  return out;
}

/**
 * Encodes a mission to token ids (all >= 1).
 *
 * @param text the mission string, exactly as the env produced it
 * @param maxLen if given, the result must not be longer; it is NOT padded
 * @throws MissionTokenError naming the unknown word and the mission, or both lengths
 */
export function encodeMission(text: string, maxLen?: number): Int32Array {
  const toks = tokenizeMission(text);
  if (maxLen !== undefined && toks.length > maxLen) {
    throw new MissionTokenError(
      `mission ${JSON.stringify(text)} has ${toks.length} tokens, more than maxLen=${maxLen}; ` +
        `raise the mission prefix length`,
    );
  }
  const ids = new Int32Array(toks.length);
  for (let i = 0; i < toks.length; i++) {
    const id = WORD_TO_ID.get(toks[i]);
    if (id === undefined || id === 0) {
      throw new MissionTokenError(
        `unknown word ${JSON.stringify(toks[i])} (token ${i}) in mission ${
          JSON.stringify(text)
        }; ` +
          `add it at the end of MISSION_VOCAB in lib/env/babyai/vocab.ts`,
      );
    }
    ids[i] = id;
  }
  return ids;
}

/**
 * Encodes a mission into a fixed-length row, padding with 0.
 *
 * @param out destination (length = the prefix length M); overwritten
 * @throws MissionTokenError when the mission has more tokens than `out.length`
 */
export function encodeMissionInto(text: string, out: Int32Array): Int32Array {
  const ids = encodeMission(text, out.length);
  out.fill(0);
  out.set(ids);
  return out;
}

/**
 * Decodes token ids back to the mission text; padding (0) is skipped.
 *
 * @throws MissionTokenError on an id outside the vocabulary
 */
export function decodeMission(ids: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === 0) continue;
    if (!Number.isInteger(id) || id < 0 || id >= MISSION_VOCAB.length) {
      throw new MissionTokenError(
        `mission token id ${id} at position ${i} is outside 0..${MISSION_VOCAB.length - 1}`,
      );
    }
    if (id === COMMA_ID) s += ",";
    else s += (s.length ? " " : "") + MISSION_VOCAB[id];
  }
  return s;
}
