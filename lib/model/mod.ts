/**
 * The masked-diffusion transformer, its checkpoints and device selection.
 *
 * @module
 */
export * from "./model_config.ts";
export * from "./params.ts";
export * from "./transformer.ts";
export * from "./decode.ts";
export * from "./checkpoint.ts";
export * from "./device.ts";
