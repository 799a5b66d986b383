/**
 * BabyAI for this workspace (Minigrid 3.1.0, seed-exact): the mission
 * vocabulary and tokenizer, the instruction language with its verifier,
 * RoomGridLevel / LevelGen and every BabyAI level (registered in the shared
 * env registry by importing `./register.ts`, which `lib/env/registry.ts`
 * does), and the expert bot.
 *
 * @module
 */

export * from "./vocab.ts";
export * from "./instructions.ts";
export * from "./roomgrid_level.ts";
export * from "./levelgen.ts";
export * from "./levels/mod.ts";
export { BABYAI_LEVELS } from "./register.ts";
export * from "./bot.ts";
