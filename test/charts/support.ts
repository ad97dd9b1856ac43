// Reading the charts' SVG back: well-formedness, and the elements and texts in it.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';

export type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  preserveOrder: true,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Entities are decoded, so that a test compares the text a reader sees.
  processEntities: true,
  htmlEntities: true,
});

/** Parses an SVG string, failing the test if it is not well-formed XML. */
export function parseSvg(svg: string): Node[] {
  const valid = XMLValidator.validate(svg);
  if (valid !== true) expect.fail(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  return parser.parse(svg) as Node[];
}

export interface Element {
  name: string;
  attributes: Record<string, string>;
  children: Element[];
  /** The element's own text and its descendants', concatenated. */
  text: string;
}

function toElements(nodes: Node[]): Element[] {
  const out: Element[] = [];
  for (const node of nodes) {
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || name === '#text') continue;
    const childNodes = node[name] as Node[];
    const attributes = Object.fromEntries(
      Object.entries((node[':@'] as Record<string, unknown>) ?? {}).map(([k, v]) => [k.slice(1), String(v)]),
    );
    const children = toElements(childNodes);
    const text = childNodes
      .map((child) => ('#text' in child ? String(child['#text']) : ''))
      .join('');
    out.push({ name, attributes, children, text: text + children.map((c) => c.text).join('') });
  }
  return out;
}

/** The document's root element. */
export function root(svg: string): Element {
  const [first] = toElements(parseSvg(svg));
  if (!first) expect.fail('no root element');
  return first;
}

/** Every element named `name` under `element`, in document order. */
export function all(element: Element, name: string): Element[] {
  return element.children.flatMap((child) => [...(child.name === name ? [child] : []), ...all(child, name)]);
}

/** Elements with a class among their classes. */
export function byClass(element: Element, cls: string): Element[] {
  const walk = (e: Element): Element[] => [
    ...((e.attributes.class ?? '').split(' ').includes(cls) ? [e] : []),
    ...e.children.flatMap(walk),
  ];
  return element.children.flatMap(walk);
}

/** What a chart must never contain: scripts, external references, event handlers, CSS imports. */
export function expectSelfContained(svg: string): void {
  expect(svg).not.toMatch(/<script|<foreignObject|\son\w+=|@import|url\((?!#)|href=/i);
  expect(svg.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:/);
}
