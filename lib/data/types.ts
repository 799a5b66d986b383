/**
 * The core data contract shared by data, masking, model, train and eval.
 *
 * A window is K consecutive frames of one episode. Each frame becomes 51
 * sequence positions: 49 cells of the 7x7 egocentric view (cell index
 * `vx * 7 + vy`, the same order as MiniGrid's `obs["image"]`), one direction
 * position and one action position. The mission words are a prefix of M
 * positions. The action of a frame is the action taken *after* seeing it; the
 * last frame of an episode has no action and carries {@link ACTION_NONE}.
 *
 * @module
 */

/** Cells per frame (7x7 view). */
export const CELLS = 49;
/** Attributes per cell: object, colour, state. */
export const ATTRS = 3;
/** Sequence positions per frame: 49 cells + direction + action. */
export const SLOTS_PER_FRAME = CELLS + 2;

/** Object ids 0..10 (unseen, empty, wall, floor, door, key, ball, box, goal, lava, agent). */
export const OBJ_VOCAB = 11;
/** Colour ids 0..5 (red, green, blue, purple, yellow, grey). */
export const COLOR_VOCAB = 6;
/** Door state ids 0..2 (open, closed, locked). */
export const STATE_VOCAB = 3;
/** Direction ids 0..3. */
export const DIR_VOCAB = 4;
/** Action ids 0..6 plus {@link ACTION_NONE}. */
export const ACTION_VOCAB = 8;
/** Action id of an episode's last frame, which has no action. */
export const ACTION_NONE = 7;

/**
 * The [MASK] id of each vocabulary is its size: embedding tables have
 * `vocab + 1` rows, output heads predict `vocab` classes.
 */
export const MASK_ID = {
  obj: OBJ_VOCAB,
  color: COLOR_VOCAB,
  state: STATE_VOCAB,
  dir: DIR_VOCAB,
  action: ACTION_VOCAB,
} as const;

/** A batch of tokenized windows, row-major int32 tensors ready for the model. */
export interface Batch {
  /** Windows in the batch. */
  B: number;
  /** Frames per window. */
  K: number;
  /** Mission prefix length (word positions). */
  M: number;
  /** [B, K, 49, 3]: object, colour, state id of every cell. */
  cells: Int32Array;
  /** [B, K]: agent direction. */
  dirs: Int32Array;
  /** [B, K]: action taken after the frame ({@link ACTION_NONE} on an episode's last frame). */
  actions: Int32Array;
  /** [B, M]: mission word ids, 0 = padding. */
  mission: Int32Array;
  /** [B, K]: 1 for a real frame, 0 for padding after a short episode's end. */
  frameValid: Uint8Array;
}

/**
 * Which slots are hidden ([MASK] in the input, targets of the loss).
 * 1 = hidden. Padding frames are never hidden.
 */
export interface Mask {
  /** [B, K, 49, 3] per attribute of every cell. */
  cells: Uint8Array;
  /** [B, K]. */
  dirs: Uint8Array;
  /** [B, K]. */
  actions: Uint8Array;
  /** [B]: loss weight of each window (1 normally; 1/t for the any-order ELBO). */
  weight: Float32Array;
  /**
   * [B]: 1 where the window's hidden slots were drawn with probability t and weighted 1/t (the
   * any-order ELBO): the balanced loss then divides each head by its valid slots, not its hidden
   * ones (lib/train/loss.ts). Absent = all 0.
   */
  elbo?: Uint8Array;
}

/**
 * Model outputs for a batch: unnormalised log-probabilities (logits), row-major.
 * Heads predict the real classes only (no [MASK] class).
 */
export interface Logits {
  /** [B, K, 49, OBJ_VOCAB]. */
  obj: Float32Array;
  /** [B, K, 49, COLOR_VOCAB]. */
  color: Float32Array;
  /** [B, K, 49, STATE_VOCAB]. */
  state: Float32Array;
  /** [B, K, DIR_VOCAB]. */
  dir: Float32Array;
  /** [B, K, ACTION_VOCAB]. */
  action: Float32Array;
}

/**
 * Anything that fills in hidden slots: a trained model, or a baseline.
 * The masked input is `batch` with the slots where `mask` is 1 treated as [MASK].
 * Evaluation code depends only on this signature.
 */
export type Predictor = (batch: Batch, mask: Mask) => Promise<Logits>;

/**
 * Host-side loss targets for a batch + mask (built by lib/train/loss.ts `encodeTargets`, read by
 * both engines' losses).
 */
export interface HostTargets {
  /** [B, K, 49, 3] int32 true cell attributes. */
  cells: Int32Array;
  /** [B, K] int32. */
  dirs: Int32Array;
  /** [B, K] int32. */
  actions: Int32Array;
  /** [B, K, 49, 3] float32 hidden indicator. */
  mCells: Float32Array;
  /** [B, K] float32. */
  mDirs: Float32Array;
  /** [B, K] float32. */
  mActions: Float32Array;
  /**
   * [B, 5] float32 factor of each window and head (obj, color, state, dir, action): the window's
   * weight over the loss mode's normalizer (lib/train/loss.ts).
   */
  winW: Float32Array;
  /** Hidden slots per head (obj, color, state, dir, action). */
  hiddenPerHead: number[];
  /** Valid (non-padding) slots in the batch. */
  validSlots: number;
}
