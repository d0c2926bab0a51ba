/**
 * Positions of a graph's nodes and the routes of its edges, by dagre
 * (layered layout, top to bottom: long workflows grow downwards, which
 * scrolls well on a phone).
 */
import { graphlib, layout } from '@dagrejs/dagre';
import type { GraphEdge, GraphNode } from './workflow-graph.js';

/** A placed node: `x`, `y` are its centre. */
export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A routed edge: the points of its polyline. */
export interface RoutedEdge extends GraphEdge {
  points: { x: number; y: number }[];
}

/** A laid-out graph and its size. */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: RoutedEdge[];
}

/** Node height: two lines of text. */
export const NODE_HEIGHT = 48;
const CHAR_WIDTH = 7.5;
const PADDING = 24;
const MIN_WIDTH = 120;

/** Lays `nodes` and `edges` out. */
export function layoutGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): GraphLayout {
  const g = new graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 40, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    const chars = Math.max(node.name.length, node.detail.length * 0.85);
    g.setNode(node.name, { width: Math.max(MIN_WIDTH, chars * CHAR_WIDTH + PADDING), height: NODE_HEIGHT });
  }
  for (const edge of edges) g.setEdge(edge.from, edge.to);
  layout(g);
  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    nodes: nodes.map((node) => {
      const placed = g.node(node.name);
      return { ...node, x: placed.x, y: placed.y, width: placed.width, height: placed.height };
    }),
    edges: edges.map((edge) => ({ ...edge, points: g.edge(edge.from, edge.to).points ?? [] })),
  };
}
