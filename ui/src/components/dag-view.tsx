/**
 * A workflow's steps as a graph laid out by dagre: nodes coloured and
 * labelled by status when there is one, arrows from a step to those that
 * wait for it. With `linkSteps`, each node is a link to the step's details
 * below, so the graph is usable from the keyboard.
 */
import { useId, useMemo } from 'preact/hooks';
import { statusLabel } from '../model/format.js';
import { layoutGraph, NODE_HEIGHT } from '../model/graph-layout.js';
import type { WorkflowGraph } from '../model/workflow-graph.js';

/** Props of {@link DagView}. */
export interface DagViewProps {
  graph: WorkflowGraph;
  /** What the graph shows, for screen readers. */
  label: string;
  /** Status per step name (an execution); without, nodes show what they call. */
  statuses?: Readonly<Record<string, string>>;
  /** Nodes link to `#step-<name>`. */
  linkSteps?: boolean;
}

/** The graph as SVG. */
export function DagView({ graph, label, statuses, linkSteps = false }: DagViewProps) {
  const layout = useMemo(() => layoutGraph(graph.nodes, graph.edges), [graph]);
  const arrow = `arrow-${useId()}`;
  return (
    <div class="dag">
      <svg viewBox={`0 0 ${layout.width} ${layout.height}`} width={layout.width} height={layout.height}>
        <title>{label}</title>
        <defs>
          <marker
            id={arrow}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        {layout.edges.map((edge) => (
          <path
            key={`${edge.from}->${edge.to}`}
            class="dag-edge"
            d={edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ')}
            marker-end={`url(#${arrow})`}
          />
        ))}
        {layout.nodes.map((node) => {
          const status = statuses?.[node.name];
          const second = status ? statusLabel(status) : node.detail;
          const name = status ? `${node.name}: ${statusLabel(status)}` : `${node.name}, ${node.detail}`;
          const body = (
            <>
              <rect width={node.width} height={node.height} rx="8" />
              <text x={node.width / 2} y={NODE_HEIGHT / 2 - 4} class="dag-name">
                {node.name}
              </text>
              <text x={node.width / 2} y={NODE_HEIGHT / 2 + 13} class="dag-detail">
                {second}
              </text>
            </>
          );
          return (
            <g
              key={node.name}
              class={`dag-node status-${status ?? 'none'}`}
              data-step={node.name}
              data-status={status}
              transform={`translate(${node.x - node.width / 2},${node.y - node.height / 2})`}
            >
              {linkSteps ? (
                <a href={`#step-${node.name}`} class="node-link" aria-label={name}>
                  {body}
                </a>
              ) : (
                <>
                  <title>{name}</title>
                  {body}
                </>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
