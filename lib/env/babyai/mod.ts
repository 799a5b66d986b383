/**
 * BabyAI for this workspace: the mission vocabulary and tokenizer, the
 * instruction language with its verifier, every BabyAI level of Minigrid
 * 3.1.0 and the expert bot.
 *
 * @module
 */

export * from "./vocab.ts";
export * from "./instructions.ts";
