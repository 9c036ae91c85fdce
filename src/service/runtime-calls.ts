// What the services need of the Raft runtime, and the one place where its errors become the
// domain's (domain/errors.ts): a caller of the link service or cluster administration never
// sees a Raft or runtime error class.
import { DiskFullError, NotMemberError, ProposalDroppedError, RuntimeStoppedError } from '../node/errors.js';
import type { RaftRuntime } from '../node/runtime.js';
import { DeadlineError } from '../node/waiters.js';
import { NotLeaderError as RaftNotLeaderError, ProposalRejectedError } from '../raft/index.js';
import { encodeCommand, type UrlCommand } from '../shortener/commands.js';
import type { ApplyResult } from '../shortener/url-store.js';
import {
  MEMBERSHIP_CHANGE_IN_PROGRESS,
  CommitTimeoutError,
  ConflictError,
  NotLeaderError,
  UnavailableError,
} from '../domain/errors.js';

/** The runtime over the URL store's state machine. */
export type UrlRuntime = RaftRuntime<ApplyResult>;

/** Not the leader: names the leader's HTTP URL when this node knows it, else "no leader is known". */
export function notLeader(runtime: Pick<UrlRuntime, 'member'>, leaderId: number): NotLeaderError {
  const url = leaderId ? runtime.member(leaderId)?.httpUrl || null : null;
  return new NotLeaderError(url ? leaderId : 0, url);
}

/** Runs a runtime call, turning its errors into the service's. */
export async function translateRuntimeErrors<T>(
  runtime: Pick<UrlRuntime, 'member'>,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof RaftNotLeaderError) throw notLeader(runtime, err.leaderId);
    if (err instanceof DeadlineError) throw new CommitTimeoutError(err.timeoutMs);
    if (err instanceof ProposalDroppedError) throw new UnavailableError(err.message);
    if (err instanceof RuntimeStoppedError) throw new UnavailableError(err.message);
    if (err instanceof NotMemberError) throw new UnavailableError(err.message);
    if (err instanceof DiskFullError) throw new UnavailableError(err.message);
    if (err instanceof ProposalRejectedError)
      throw new ConflictError(MEMBERSHIP_CHANGE_IN_PROGRESS, err.message);
    throw err;
  }
}

/** Proposes one command and resolves with what apply returned for it on this node. */
export function proposeCommand(
  runtime: Pick<UrlRuntime, 'member' | 'propose'>,
  command: UrlCommand,
): Promise<ApplyResult | undefined> {
  const data = encodeCommand(command);
  return translateRuntimeErrors(runtime, () => runtime.propose(data));
}
