/**
 * The masked-diffusion transformer, its checkpoints and device selection.
 *
 * @module
 */
export * from "./transformer.ts";
export * from "./checkpoint.ts";
export * from "./device.ts";
