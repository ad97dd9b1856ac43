// Series colours and dash patterns. The Okabe–Ito palette stays distinguishable with the common
// colour-vision deficiencies; lines also differ by dash pattern so colour is never the only cue.

export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#8C6D00', '#000000'] as const;

/** SVG stroke-dasharray values, solid first. */
export const DASHES = [undefined, '6 3', '2 3', '8 3 2 3', '12 4', '3 6'] as const;

export function seriesColour(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

export function seriesDash(index: number): string | undefined {
  return DASHES[index % DASHES.length];
}
