/** The map format lives with the contract so the renderer parses the same bytes; see preload/contract/map-format.ts. */
export * from '../../../preload/contract/map-format';
