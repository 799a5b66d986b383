/**
 * MiniGrid encoding tables and geometry constants (mirror of `minigrid/core/constants.py`
 * and `minigrid/core/actions.py`).
 *
 * @module
 */

/** Pixel size of one tile in renders. */
export const TILE_PIXELS = 32;

/** RGB of each colour name. */
export const COLORS: Readonly<Record<ColorName, readonly [number, number, number]>> = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  purple: [112, 39, 195],
  yellow: [255, 255, 0],
  grey: [100, 100, 100],
};

/** A MiniGrid colour name. */
export type ColorName = "red" | "green" | "blue" | "purple" | "yellow" | "grey";

/**
 * Colour names sorted alphabetically, exactly as Python's `sorted(COLORS)`. Random colour draws
 * (`randColor`, `randElem(COLOR_NAMES)`) index THIS list, not COLOR_TO_IDX order.
 */
export const COLOR_NAMES: readonly ColorName[] = [
  "blue",
  "green",
  "grey",
  "purple",
  "red",
  "yellow",
];

/** Colour name → encoding index (channel 1). */
export const COLOR_TO_IDX: Readonly<Record<ColorName, number>> = {
  red: 0,
  green: 1,
  blue: 2,
  purple: 3,
  yellow: 4,
  grey: 5,
};

/** Encoding index → colour name. */
export const IDX_TO_COLOR: readonly ColorName[] = [
  "red",
  "green",
  "blue",
  "purple",
  "yellow",
  "grey",
];

/** A MiniGrid object type name. */
export type ObjectType =
  | "unseen"
  | "empty"
  | "wall"
  | "floor"
  | "door"
  | "key"
  | "ball"
  | "box"
  | "goal"
  | "lava"
  | "agent";

/** Object type → encoding index (channel 0). */
export const OBJECT_TO_IDX: Readonly<Record<ObjectType, number>> = {
  unseen: 0,
  empty: 1,
  wall: 2,
  floor: 3,
  door: 4,
  key: 5,
  ball: 6,
  box: 7,
  goal: 8,
  lava: 9,
  agent: 10,
};

/** Encoding index → object type. */
export const IDX_TO_OBJECT: readonly ObjectType[] = [
  "unseen",
  "empty",
  "wall",
  "floor",
  "door",
  "key",
  "ball",
  "box",
  "goal",
  "lava",
  "agent",
];

/** Door state → encoding index (channel 2). */
export const STATE_TO_IDX = { open: 0, closed: 1, locked: 2 } as const;

/** Direction index → unit vector [dx, dy]: 0 right (+x), 1 down (+y), 2 left, 3 up. */
export const DIR_TO_VEC: readonly (readonly [number, number])[] = [
  [1, 0],
  [0, 1],
  [-1, 0],
  [0, -1],
];

/** dx per direction (typed, for hot paths). */
export const DIR_DX: Int8Array = Int8Array.from([1, 0, -1, 0]);
/** dy per direction (typed, for hot paths). */
export const DIR_DY: Int8Array = Int8Array.from([0, 1, 0, -1]);

/** The seven MiniGrid actions. */
export const Actions = {
  left: 0,
  right: 1,
  forward: 2,
  pickup: 3,
  drop: 4,
  toggle: 5,
  done: 6,
} as const;

/** An action index (0..6). */
export type Action = number;

/** Action names in index order. */
export const ACTION_NAMES: readonly string[] = [
  "left",
  "right",
  "forward",
  "pickup",
  "drop",
  "toggle",
  "done",
];
