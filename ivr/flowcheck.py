"""Whole-graph checks of a flow: unknown targets, unreachable nodes, and loops a caller cannot leave."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.flowparse import ParsedFlow
from ivr.nodes import INPUT_NODES, Flow, MenuNode, Node, is_exit, successors
from ivr.problems import Problem

EXITS = "enqueue, callback, voicemail, transfer or hangup"


def check_graph(parsed: ParsedFlow) -> list[Problem]:
    """Problems of the node graph; reachability and loops are judged only when every node parsed.

    Two kinds of loop have no exit: nodes that only lead to each other, and a path a caller who never
    answers (menus through ``on_failure``) goes round for ever.
    """
    problems = _unknown_targets(parsed)
    flow = parsed.flow
    if flow is None or problems or len(flow.nodes) < len(parsed.node_paths):
        return problems
    paths = parsed.node_paths
    trapped = _without_exit(flow, paths)  # when nothing leads out, the silent loop is the same problem
    return [*_unreachable(flow, paths), *(trapped or _silent_loops(flow, paths))]


def _unknown_targets(parsed: ParsedFlow) -> list[Problem]:
    known = parsed.node_paths
    return [
        Problem(path, f"unknown node {target!r} (nodes: {', '.join(known)})")
        for path, target in parsed.refs
        if target not in known
    ]


def reachable(flow: Flow) -> set[str]:
    """Nodes a call can reach from the start."""
    seen, todo = {flow.start}, [flow.start]
    while todo:
        for target in successors(flow.nodes[todo.pop()]):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _unreachable(flow: Flow, paths: Mapping[str, tuple[str | int, ...]]) -> list[Problem]:
    seen = reachable(flow)
    return [
        Problem(paths[node_id], f"unreachable node {node_id!r}: no path leads here from start {flow.start!r}")
        for node_id in flow.nodes
        if node_id not in seen
    ]


def _without_exit(flow: Flow, paths: Mapping[str, tuple[str | int, ...]]) -> list[Problem]:
    """A caller in a cycle with no path to an exit node would be asked forever."""
    leaving = {node_id for node_id, node in flow.nodes.items() if is_exit(node)}
    changed = True
    while changed:
        more = {n for n, node in flow.nodes.items() if n not in leaving and leaving & set(successors(node))}
        leaving |= more
        changed = bool(more)
    seen = reachable(flow)
    stuck = [n for n in flow.nodes if n in seen and n not in leaving]
    if not stuck:
        return []
    names = ", ".join(stuck)
    message = f"loop with no exit: {names} lead only to each other; a call there never reaches {EXITS}"
    return [Problem(paths[stuck[0]], message)]


def _silent_loops(flow: Flow, paths: Mapping[str, tuple[str | int, ...]]) -> list[Problem]:
    """A caller who never answers must still leave: nodes that ask nothing, and menus through their
    ``on_failure``, must not lead back to themselves (the call would go round without end)."""
    seen = reachable(flow)
    problems, reported = [], set[str]()
    for node_id in (n for n in flow.nodes if n in seen):
        cycle = _cycle_from(node_id, flow.nodes)
        if cycle and not reported & set(cycle):
            reported |= set(cycle)
            problems.append(Problem(paths[node_id], f"loop with no exit: {_loop_story(cycle, flow.nodes)}"))
    return problems


def _loop_story(cycle: list[str], nodes: Mapping[str, Node]) -> str:
    trail = " -> ".join(cycle)
    if any(isinstance(nodes[n], INPUT_NODES) for n in cycle):
        return f"a caller who never answers goes round {trail} (send on_failure towards an exit)"
    return f"{trail} repeats without asking the caller anything"


def _silent_successors(node: Node) -> tuple[str, ...]:
    """Where a call goes without any valid answer from the caller."""
    return (node.on_failure,) if isinstance(node, MenuNode) else successors(node)


def _cycle_from(start: str, nodes: Mapping[str, Node]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        node_id, trail = stack.pop()
        for target in _silent_successors(nodes[node_id]):
            if target == start:
                return [*trail, start]
            if target in nodes and target not in trail:
                stack.append((target, [*trail, target]))
    return None
