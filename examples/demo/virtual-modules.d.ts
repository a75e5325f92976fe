/** bench/peak-loop.ts's PEAK_SOURCE compiled by asc when the page is built (vite.config.ts). */
declare module 'virtual:regula-peak' {
  const binary: Uint8Array<ArrayBuffer>;
  export default binary;
}
