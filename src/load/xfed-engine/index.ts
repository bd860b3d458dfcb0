import type { LoadEngine } from '../engine.js';
import { stampOf } from '../stats.js';
import { runInChild } from './parent.js';

/**
 * xfed's own load generator: the users' sessions live in a child process of xfed (node, over IPC),
 * so its CPU and memory are measured apart from the target xfed runs in this process.
 */
export function xfedEngine(): LoadEngine {
  return {
    name: 'xfed',
    run: (plan, events, signal) => runInChild(plan, events, signal),
    stampOf,
  };
}
