// Where things are in the file a config was read from: the loaders record each config's source tree here,
// so checks made later (apply, in src/control) can still point at file:line:col.
import type { ProjectConfig } from "./config.js";
import type { Pos, SrcNode } from "./validate.js";

/** The position of the node a path like `jobs[0].properties.template` names, or of its deepest existing ancestor. */
export function locate(root: SrcNode, path: string): Pos {
  let node = root;
  let pos = root.pos;
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) {
      const item = node.kind === "seq" ? node.items[Number(m[2])] : undefined;
      if (!item) break;
      node = item;
    } else {
      const entry = node.kind === "map" ? node.entries.find((e) => e.key === m[1]) : undefined;
      if (!entry) break;
      node = entry.value;
      // a scalar is found at its value; a mapping or list at its key, which is where the eye looks
      pos = node.kind === "scalar" && node.pos.line !== undefined ? node.pos : entry.keyPos;
      continue;
    }
    pos = node.pos.line !== undefined ? node.pos : pos;
  }
  return pos;
}

/** The parsed tree of each config, so later checks (apply) can point at a line. */
const trees = new WeakMap<ProjectConfig, SrcNode>();

/** Called by a loader with the tree it parsed `config` from. */
export function rememberSourceTree(config: ProjectConfig, root: SrcNode): void {
  trees.set(config, root);
}

/** Where the field at `path` (e.g. `images[0].context`) is in the file a config was parsed from. */
export function positionOf(config: ProjectConfig, path: string): Pos | undefined {
  const root = trees.get(config);
  return root && locate(root, path);
}
