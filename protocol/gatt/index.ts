/** GATT layout, the INFO value and the advertisement (PROTOCOL.md §2–3). */
export * from './advertising.js';
export * from './constants.js';
export * from './info.js';
