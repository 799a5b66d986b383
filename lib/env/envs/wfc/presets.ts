/**
 * The six registered WFC presets of MiniGrid 3.1.0 (`minigrid/envs/wfc/config.py`, `WFC_PRESETS`)
 * and their source pattern bitmaps.
 *
 * The bitmaps are data transcribed pixel for pixel from the PNG files in
 * `minigrid/envs/wfc/patterns/` of Farama-Foundation/Minigrid v3.1.0 (Apache License 2.0):
 * `#` is RGB (0, 0, 0), `.` is (255, 255, 255) and `o` is (254, 254, 254) (one pixel colour
 * of Fabric.png that is its own tile). Rows are the image rows (first array axis).
 *
 * @module
 */

import { EnvUsageError } from "../../env_api.ts";

/** One WFC preset: the source bitmap and the solver options the reference passes. */
export interface WfcPreset {
  /** Preset name as used in the env id `MiniGrid-WFC-<name>-v0`. */
  name: string;
  /** PNG file the bitmap comes from (for reference). */
  source: string;
  /** Bitmap rows (see the module doc for the characters). */
  rows: readonly string[];
  /** Side of the square overlapping patterns, in tiles. */
  patternWidth: number;
  /** Whether the output wraps around its edges. */
  outputPeriodic: boolean;
  /** Whether the input wraps (the reference wraps the input either way). */
  inputPeriodic: boolean;
}

/** RGB of each bitmap character. */
export const PIXEL_RGB: Readonly<Record<string, readonly [number, number, number]>> = {
  "#": [0, 0, 0],
  ".": [255, 255, 255],
  "o": [254, 254, 254],
};

/** The registered presets by name (all: tile size 1, 8 symmetries, entropy/weighted heuristics). */
export const WFC_PRESETS: Readonly<Record<string, WfcPreset>> = {
  MazeSimple: {
    name: "MazeSimple",
    source: "SimpleMaze.png",
    rows: ["....", ".###", ".#.#", ".###"],
    patternWidth: 2,
    outputPeriodic: false,
    inputPeriodic: false,
  },
  DungeonMazeScaled: {
    name: "DungeonMazeScaled",
    source: "ScaledMaze.png",
    rows: [
      "........",
      "........",
      "..######",
      "..######",
      "..##..##",
      "..##..##",
      "..######",
      "..######",
    ],
    patternWidth: 2,
    outputPeriodic: true,
    inputPeriodic: true,
  },
  RoomsFabric: {
    name: "RoomsFabric",
    source: "Fabric.png",
    rows: ["..#..", "..o..", "#####", "..o..", "..#.."],
    patternWidth: 3,
    outputPeriodic: false,
    inputPeriodic: false,
  },
  ObstaclesBlackdots: {
    name: "ObstaclesBlackdots",
    source: "Blackdots.png",
    rows: ["...", ".#.", "..."],
    patternWidth: 2,
    outputPeriodic: false,
    inputPeriodic: false,
  },
  ObstaclesAngular: {
    name: "ObstaclesAngular",
    source: "Angular.png",
    rows: [
      "...........",
      ".....#####.",
      ".....#####.",
      ".....#####.",
      ".....#####.",
      ".#########.",
      ".#########.",
      ".#########.",
      ".#########.",
      ".#########.",
      "...........",
    ],
    patternWidth: 3,
    outputPeriodic: true,
    inputPeriodic: true,
  },
  ObstaclesHogs3: {
    name: "ObstaclesHogs3",
    source: "Hogs.png",
    rows: [
      ".................",
      ".......#....#....",
      "..#...###..###...",
      ".###...#....#....",
      "..#..............",
      ".........#.......",
      "....#...###...#..",
      "...###...#...###.",
      "....#.........#..",
      ".................",
      ".......#....#....",
      "..#...###..###...",
      ".###...#....#....",
      "..#..#...#....#..",
      "....###.###..###.",
      ".....#...#....#..",
      ".................",
    ],
    patternWidth: 3,
    outputPeriodic: true,
    inputPeriodic: true,
  },
};

/** The preset of a name, or an error naming the available ones. */
export function wfcPreset(name: string): WfcPreset {
  const p = WFC_PRESETS[name];
  if (p === undefined) {
    throw new EnvUsageError(
      `unknown WFC preset "${name}"; available: ${Object.keys(WFC_PRESETS).join(", ")} ` +
        `(the reference's slow/inconsistent presets are not ported)`,
    );
  }
  return p;
}
