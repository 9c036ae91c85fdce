// A Wing–Gong linearizability search with Lowe's/Porcupine's memoization: walk the history's call
// and return events in time order, linearize a pending operation whenever the model allows it, and
// backtrack when an operation's return is reached without it having been linearized. A (set of
// linearized operations, model state) pair is never explored twice, which makes histories of a few
// hundred operations per key quick.
//
// The model may be nondeterministic (an operation whose outcome is unknown may or may not have taken
// effect): step() returns every state the operation may lead to, [] when it is illegal.

export interface Model<S, O> {
  init: S;
  step(state: S, op: O): S[];
  /** A canonical string for memoization. */
  key(state: S): string;
}

export interface TimedOp<O> {
  op: O;
  call: number;
  /** +Infinity: no answer (the operation may linearize at any point after its call). */
  ret: number;
}

export type WglResult =
  | { ok: true; steps: number }
  | {
      ok: false;
      steps: number;
      /** The longest prefix of operations (indexes into the input) the search could linearize. */
      bestLinearization: number[];
      /** The operation whose return came before it could be linearized, at the deepest point. */
      stuckAt: number[];
    }
  | { ok: 'timeout'; steps: number };

interface Entry {
  kind: 'call' | 'ret';
  opIndex: number;
  time: number;
  prev: Entry | undefined;
  next: Entry | undefined;
  match: Entry | undefined; // call -> its return
}

export function checkLinearizable<S, O>(
  model: Model<S, O>,
  history: ReadonlyArray<TimedOp<O>>,
  maxSteps = 2_000_000,
): WglResult {
  const n = history.length;
  if (n === 0) return { ok: true, steps: 0 };
  // Events in time order; at equal times calls come first (operations that touch are concurrent).
  const events: Entry[] = [];
  history.forEach((h, i) => {
    const call: Entry = {
      kind: 'call',
      opIndex: i,
      time: h.call,
      prev: undefined,
      next: undefined,
      match: undefined,
    };
    const ret: Entry = {
      kind: 'ret',
      opIndex: i,
      time: h.ret,
      prev: undefined,
      next: undefined,
      match: undefined,
    };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort(
    (a, b) => a.time - b.time || (a.kind === b.kind ? a.opIndex - b.opIndex : a.kind === 'call' ? -1 : 1),
  );
  const head: Entry = {
    kind: 'call',
    opIndex: -1,
    time: -Infinity,
    prev: undefined,
    next: undefined,
    match: undefined,
  };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }

  const lift = (call: Entry): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Entry): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const bitsKey = (): string => {
    let s = '';
    for (let i = 0; i < words; i++) s += linearized[i].toString(36) + ',';
    return s;
  };
  const cache = new Set<string>();
  const stack: Array<{ entry: Entry; state: S; choices: S[]; choice: number; pure: boolean }> = [];
  let state = model.init;
  let entry = head.next;
  let steps = 0;
  let best: number[] = [];
  let bestStuck: number[] = [];

  const tryChoices = (e: Entry, prevState: S, choices: S[], from: number): boolean => {
    for (let c = from; c < choices.length; c++) {
      const next = choices[c];
      const i = e.opIndex;
      linearized[i >>> 5] |= 1 << (i & 31);
      const key = bitsKey() + '|' + model.key(next);
      if (!cache.has(key)) {
        cache.add(key);
        // A legal operation that leaves the state as it is (a read) can always be linearized at
        // once: any valid order that places it later stays valid with it moved here. So when
        // everything after it fails, there is nothing to gain from trying other operations here.
        const pure = choices.length === 1 && model.key(next) === model.key(prevState);
        stack.push({ entry: e, state: prevState, choices, choice: c, pure });
        state = next;
        lift(e);
        return true;
      }
      linearized[i >>> 5] &= ~(1 << (i & 31));
    }
    return false;
  };

  while (head.next !== undefined) {
    if (++steps > maxSteps) return { ok: 'timeout', steps };
    if (entry === undefined) {
      // Only possible when every remaining event is a call whose op cannot be linearized
      // (returns are always reached first otherwise); treat like reaching a return.
      entry = head.next;
      while (entry && entry.kind === 'call') entry = entry.next;
    }
    if (entry !== undefined && entry.kind === 'call') {
      const choices = model.step(state, history[entry.opIndex].op);
      if (tryChoices(entry, state, choices, 0)) {
        entry = head.next;
        continue;
      }
      entry = entry.next;
      continue;
    }
    // A return of an operation not linearized yet (or nothing left that can move): backtrack.
    if (stack.length > best.length) {
      best = stack.map((f) => f.entry.opIndex);
      bestStuck = [];
      for (let e: Entry | undefined = head.next; e && bestStuck.length < 1; e = e.next)
        if (e.kind === 'ret') bestStuck.push(e.opIndex);
    }
    let resumed = false;
    while (stack.length > 0) {
      const top = stack.pop()!;
      const i = top.entry.opIndex;
      unlift(top.entry);
      linearized[i >>> 5] &= ~(1 << (i & 31));
      state = top.state;
      if (top.pure) continue; // see above: the prefix before it fails as well
      // The same operation with another of its possible outcomes, else the next candidate.
      if (tryChoices(top.entry, top.state, top.choices, top.choice + 1)) {
        entry = head.next;
        resumed = true;
        break;
      }
      entry = top.entry.next;
      resumed = true;
      break;
    }
    if (!resumed) return { ok: false, steps, bestLinearization: best, stuckAt: bestStuck };
  }
  return { ok: true, steps };
}
