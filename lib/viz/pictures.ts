/**
 * Pictures of grids and observations for notebooks and reports (placeholder
 * until lib/env's renderer lands).
 *
 * @module
 */
export {};
