import type { Design } from '../../sim/design/design.js';
import type { ProcessNodeNm } from '../../sim/tech/nodes.js';
import type { Rng } from '../../sim/random/rng.js';
import type { Surrogate } from '../surrogate/model.js';
import { DIMENSIONS } from '../space.js';
import { designInBox } from '../sampler.js';
import { ActionSpace, type HybridAction } from './actions.js';
import { scoreDesigns, type DesignScore, type SearchContext } from './evaluate.js';
import { observe, OBS_DIM } from './observation.js';

/**
 * The design environment (docs/explore.md "Episodes"), gym-style:
 *
 * - `reset(start)`: an episode begins at a start design of the environment's node (the
 *   driver picks it: a fresh design from the sampler's box, the run's `--design`, or the
 *   best design found so far) and returns its observation;
 * - `step(action)`: the mesh moves and every other dimension is set by the action
 *   (actions.ts), the new design is scored through the surrogate (one surrogate call;
 *   evaluate.ts), and the result is the new observation, the Eq. 34 reward of the new
 *   design, `terminated` (always false: no design ends the search) and `truncated` (true
 *   after `episodeSteps` steps). The value of the last state is bootstrapped, since the
 *   episode is cut by time, not ended by the task.
 *
 * The reward is that of the design the step produced, so the return of an episode sums
 * the rewards of the designs it visited; the search keeps the best of them (the archive).
 */

export interface StepResult {
  readonly obs: Float32Array;
  readonly reward: number;
  readonly terminated: boolean;
  readonly truncated: boolean;
  readonly score: DesignScore;
}

export class DesignEnv {
  readonly actions: ActionSpace;
  /** Surrogate calls made by this environment (one per scored design). */
  surrogateCalls = 0;
  private current?: DesignScore;
  private steps = 0;

  constructor(
    readonly ctx: SearchContext,
    readonly node: ProcessNodeNm,
    /** The surrogate in use (refit during a run, so read at every step). */
    private readonly surrogate: () => Surrogate,
    readonly episodeSteps: number,
    frozen: readonly string[] = [],
    frozenFrom?: Design,
  ) {
    this.actions = new ActionSpace(ctx.card, node, frozen, frozenFrom);
  }

  get state(): DesignScore {
    if (!this.current) throw new Error('DesignEnv: step() before reset()');
    return this.current;
  }

  reset(start: Design): { obs: Float32Array; score: DesignScore } {
    if (start.processNodeNm !== this.node) throw new Error(`DesignEnv(${this.node} nm): start design is at ${start.processNodeNm} nm`);
    this.steps = 0;
    this.current = this.score(start);
    return { obs: observe(this.current, this.ctx, { step: 0, episodeSteps: this.episodeSteps }), score: this.current };
  }

  step(action: HybridAction): StepResult {
    const next = this.actions.apply(this.state.design, action, `${this.ctx.card.name}-${this.node}nm`);
    this.steps++;
    this.current = this.score(next);
    const obs = observe(this.current, this.ctx, { step: this.steps, episodeSteps: this.episodeSteps });
    return { obs, reward: this.current.reward, terminated: false, truncated: this.steps >= this.episodeSteps, score: this.current };
  }

  private score(design: Design): DesignScore {
    this.surrogateCalls++;
    return scoreDesigns([design], this.surrogate(), this.ctx)[0];
  }

  /** A uniform random design in the sampler's box of the node (frozen dimensions kept), for episode starts. */
  randomDesign(rng: Rng): Design {
    const u = Float64Array.from({ length: DIMENSIONS.length }, () => rng.next());
    const d = designInBox(this.ctx.card, this.node, this.actions.box, u, `${this.ctx.card.name}-${this.node}nm`);
    return this.actions.apply(d, { discrete: [2, 2], continuous: this.actions.actionOf(d) }, d.name);
  }
}

export { OBS_DIM };
